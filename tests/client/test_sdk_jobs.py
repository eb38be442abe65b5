"""``Client.jobs`` against a real service: following an import, its row errors, cancelling, and
waiting with progress (the one wait that never ends comes from a fake)."""

from __future__ import annotations

import time

import pytest

from contactlists.client import Job, NotFoundError, RowError, WaitTimeout
from tests.support.live import LiveService
from tests.support.sdk import JOB_ID, Recorder, csv_file, job_answer, people, phone

WAIT = {"poll_interval": 0.05, "timeout": 60.0}


def test_wait_reports_each_poll_and_returns_the_finished_job(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Watched")
        accepted = api.contacts.add("Watched", people(200))
        seen: list[Job] = []

        job = api.jobs.wait(accepted.jobId, on_progress=seen.append, **WAIT)

        assert isinstance(job, Job)
        assert job.id == accepted.jobId
        assert (job.state, job.total, job.processed, job.inserted) == ("completed", 200, 200, 200)
        assert job.startedAt is not None
        assert job.finishedAt is not None
        assert job.finishedAt >= job.startedAt >= job.createdAt
        # The callback saw this job, ending with the state wait returned.
        assert seen, "the progress callback was never called"
        assert {report.id for report in seen} == {accepted.jobId}
        assert seen[-1] == job
        assert [report.processed for report in seen] == sorted(r.processed for r in seen)
        assert api.jobs.get(accepted.jobId) == job
        assert api.lists.get(created.id).status == "Ready"


def test_errors_lists_every_rejected_row(live: LiveService) -> None:
    tenant = live.tenant()
    rows = [["phoneNumber", "timeZone"], [phone(1), ""], ["12", ""], [phone(1), ""]]
    rows += [[phone(2), "Mars/Olympus"], ["call me", ""]]
    with tenant.client() as api:
        created = api.lists.create("Messy")
        accepted = api.contacts.upload(created.id, csv_file(rows))
        job = api.jobs.wait(accepted.jobId, **WAIT)
        errors = api.jobs.errors(accepted.jobId)

    assert (job.state, job.inserted, job.duplicates, job.invalid) == ("completed", 1, 1, 3)
    assert all(isinstance(error, RowError) for error in errors)
    # Line numbers of the file, the header being line 1; skipped duplicates are reported too.
    assert [(error.row, error.field, error.code, error.value) for error in errors] == [
        (3, "phoneNumber", "invalid_phone_number", "12"),
        (4, "phoneNumber", "duplicate", phone(1)),
        (5, "timeZone", "invalid_time_zone", "Mars/Olympus"),
        (6, "phoneNumber", "invalid_phone_number", "call me"),
    ]
    assert job.errors == errors


def test_errors_of_a_clean_job_are_empty(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Clean")
        accepted = api.contacts.add("Clean", people(2))
        api.jobs.wait(accepted.jobId, **WAIT)
        assert api.jobs.errors(accepted.jobId) == []


def test_cancel_stops_a_queued_import_and_leaves_a_finished_one(live: LiveService) -> None:
    tenant = live.tenant()
    big = [["phoneNumber"]] + [[phone(n)] for n in range(3000)]
    with tenant.client() as api:
        busy = api.lists.create("Keeps the worker busy")
        waiting = api.lists.create("Waits its turn")
        # The service runs one job at a time: the second waits behind the first.
        first = api.contacts.upload(busy.id, csv_file(big))
        second = api.contacts.upload(waiting.id, csv_file(big[:50]))

        cancelled = api.jobs.cancel(second.jobId)

        assert cancelled.id == second.jobId
        assert cancelled.state == "cancelled"
        assert cancelled.inserted == 0
        done = api.jobs.wait(first.jobId, **WAIT)
        assert done.state == "completed"
        # A finished job is left as it is.
        assert api.jobs.cancel(first.jobId) == done
        assert api.jobs.wait(second.jobId, **WAIT).state == "cancelled"
        assert api.lists.get(waiting.id).totalRecordCount == 0
        assert api.lists.get(waiting.id).status == "Ready"


def test_jobs_of_others_are_not_found(live: LiveService) -> None:
    owner, stranger = live.tenant(), live.tenant()
    with owner.client() as api:
        api.lists.create("Owned")
        accepted = api.contacts.add("Owned", people(1))
    with stranger.client() as api:
        for attempt in (api.jobs.get, api.jobs.errors, api.jobs.cancel):
            with pytest.raises(NotFoundError):
                attempt(accepted.jobId)


def test_wait_gives_up_after_its_timeout_with_the_last_state() -> None:
    fake = Recorder([job_answer("running") for _ in range(50)])
    seen: list[Job] = []
    started = time.monotonic()
    with fake.client() as api, pytest.raises(WaitTimeout) as raised:
        api.jobs.wait(JOB_ID, timeout=0.2, poll_interval=0.05, on_progress=seen.append)
    elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 1.5
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.job.state == "running"
    assert raised.value.job.id == JOB_ID
    assert len(seen) == len(fake.requests) >= 3
    assert "still running" in str(raised.value)


@pytest.mark.parametrize("state", ["completed", "failed", "cancelled"])
def test_wait_ends_on_every_finished_state(state: str) -> None:
    fake = Recorder([job_answer("queued"), job_answer("running"), job_answer(state)])
    with fake.client() as api:
        job = api.jobs.wait(JOB_ID, poll_interval=0.001)
    assert job.state == state
    assert len(fake.requests) == 3
