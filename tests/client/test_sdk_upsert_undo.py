"""The SDK's upsert and undo against a real service: ``lists.create(dedupe_key=…)``,
``contacts.add/upload(on_duplicate=…)`` and ``jobs.undo``."""

from __future__ import annotations

import pytest

from contactlists.client import ConflictError, NotFoundError, ValidationFailedError
from tests.support.live import LiveService
from tests.support.sdk import csv_file, people, phone

WAIT = {"poll_interval": 0.05, "timeout": 60.0}


def test_upsert_by_unique_id_then_undo_gives_the_list_back(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Keyed", dedupe_key="uniqueId")
        assert created.dedupeKey == "uniqueId"
        assert api.lists.get(created.id).dedupeKey == "uniqueId"
        first = api.contacts.add(
            "Keyed", [dict(p, uniqueId=f"u{n}") for n, p in enumerate(people(4))]
        )
        api.jobs.wait(first.jobId, **WAIT)
        before = [c.model_dump() for c in api.contacts.list(created.id)]

        changes = [{"phoneNumber": phone(50), "uniqueId": "u1", "firstName": "Moved"}]
        changes.append({"phoneNumber": phone(51), "uniqueId": "u9"})
        accepted = api.contacts.add("Keyed", changes, on_duplicate="update")
        job = api.jobs.wait(accepted.jobId, **WAIT)
        assert (job.inserted, job.updated) == (1, 1)
        uploaded = api.contacts.upload(
            created.id,
            csv_file([["phoneNumber", "uniqueId", "lastName"], [phone(52), "u2", "Up"]]),
            on_duplicate="update",
        )
        assert api.jobs.wait(uploaded.jobId, **WAIT).updated == 1

        for undone in (uploaded.jobId, accepted.jobId):
            undo = api.jobs.undo(undone)
            assert api.jobs.get(undo.jobId).type == "undo_import"
            assert api.jobs.wait(undo.jobId, **WAIT).state == "completed"
        assert [c.model_dump() for c in api.contacts.list(created.id)] == before
        assert api.jobs.get(accepted.jobId).undoneBy is not None

        with pytest.raises(ConflictError):
            api.jobs.undo(accepted.jobId)
        with pytest.raises(ConflictError):
            api.lists.update(created.id, dedupe_key="phoneNumber")
        with pytest.raises(NotFoundError):
            api.jobs.undo("job-00000000-0000-4000-8000-000000000000")
        api.lists.create("Loose", allow_duplicates=True)
        with pytest.raises(ValidationFailedError):
            api.contacts.add("Loose", people(1), on_duplicate="update")
