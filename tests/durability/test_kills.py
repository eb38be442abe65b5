"""Crashes are not failures: ten SIGKILLs during one import and during one purge.

Real ``contactlists worker`` processes, each killed with SIGKILL while it holds the job and has
made progress with it; the next one takes the job over once its heartbeat is stale. Both jobs
finish with exact counts, every takeover is counted in ``takeovers``, and no attempt is spent:
with ``job_max_attempts`` at 5, ten crashes used to fail them ("gave up after 5 attempts"),
leaving a half-imported upload with its file on disk, or a deleted list's contacts forever.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import distinct, func, select

from contactlists.models.contacts import Contact
from contactlists.models.jobs import Job, JobError
from contactlists.models.lists import ContactList
from tests.durability.kills import kill_while_running, the_job
from tests.durability.leftovers import files_under
from tests.support.contacts import add_contacts, create_list
from tests.support.durable import OwnDatabase, service_settings, sessions, wait_until
from tests.support.fill import fill_list
from tests.support.list_wire import delete_list
from tests.support.processes import Processes
from tests.support.uploads import csv_bytes, upload_ok

pytestmark = [pytest.mark.anyio, pytest.mark.serial]

KILLS = 10
FINISH_SECONDS = 180.0
AREA_CODES = (212, 312, 415, 617, 202, 305, 404, 503, 702, 713)


def phone(n: int) -> str:
    return f"+1{AREA_CODES[n // 20_000]}55{n % 20_000:05d}"


async def jobs_of(app: FastAPI, account_id: str) -> list[Job]:
    async with sessions(app)() as session:
        query = select(Job).where(Job.account_id == account_id)
        return list(await session.scalars(query.execution_options(populate_existing=True)))


async def contacts(app: FastAPI, account_id: str, list_id: str) -> tuple[int, int]:
    async with sessions(app)() as session:
        query = select(func.count(), func.count(distinct(Contact.phone))).where(
            Contact.account_id == account_id, Contact.list_id == list_id
        )
        rows, numbers = (await session.execute(query)).one()
    return int(rows), int(numbers)


async def row_errors(app: FastAPI, account_id: str) -> int:
    async with sessions(app)() as session:
        query = select(func.count()).where(JobError.account_id == account_id)
        return int(await session.scalar(query) or 0)


# ---------------------------------------------------------------- an upload

ROWS = 40_000
REJECTED_EVERY = 25  # an invalid number
REPEATED_EVERY = 40  # a number already in the file (the list allows no duplicates)


def upload_file() -> tuple[bytes, int, int, int]:
    """The CSV, and how many of its rows are stored, rejected, and duplicates."""
    rows = [["phoneNumber", "firstName"]]
    inserted = invalid = duplicates = 0
    for n in range(ROWS):
        if n % REJECTED_EVERY == 0:
            rows.append([f"bad-{n}", f"Rejected {n}"])
            invalid += 1
        elif n % REPEATED_EVERY == 1 and n > 1:
            rows.append([phone(n - 2), f"Again {n}"])
            duplicates += 1
        else:
            rows.append([phone(n), f"Name {n}"])
            inserted += 1
    return csv_bytes(rows), inserted, invalid, duplicates


async def test_ten_kills_during_an_upload_spend_no_attempt_and_lose_no_row(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    target = await create_list(own.client, tenant, "Killed ten times", allowDuplicates=False)
    content, inserted, invalid, duplicates = upload_file()
    job_id = await upload_ok(own.client, tenant, target["_id"], content)
    uploads = Path(app.state.settings.data_dir) / "uploads"
    assert len(files_under(uploads)) == 1
    env = service_settings(
        tmp_path,
        job_stale_seconds=1,
        import_batch_rows=100,
        normalise_processes=0,
        max_stored_row_errors=100_000,  # every row error kept: their count is checked exactly
    )

    async def the_import() -> Job:
        return await the_job(app, tenant.account_id, job_id)

    async def processed(job: Job) -> int:
        return job.processed

    seen = await kill_while_running(
        started, own.url, env, KILLS, the_import, processed, "the worker's progress"
    )
    assert seen < ROWS

    started.worker(own.url, env)

    async def ended() -> bool:
        return (await the_job(app, tenant.account_id, job_id)).state != "running"

    await wait_until(ended, "the import to end", FINISH_SECONDS, started)
    done = await the_job(app, tenant.account_id, job_id)
    assert (done.state, done.error) == ("completed", None)
    assert (done.total, done.processed) == (ROWS, ROWS)
    assert (done.inserted, done.invalid, done.duplicates) == (inserted, invalid, duplicates)
    assert (done.attempts, done.takeovers) == (1, KILLS)
    assert await contacts(app, tenant.account_id, target["_id"]) == (inserted, inserted)
    assert await row_errors(app, tenant.account_id) == invalid + duplicates
    async with sessions(app)() as session:
        listed = await session.get(ContactList, (tenant.account_id, target["_id"]))
    assert listed is not None
    assert listed.total_record_count == inserted

    # The worker removes the file just after it records the ending, so it is waited for.
    async def file_gone() -> bool:
        return files_under(uploads) == []

    await wait_until(file_gone, "the file to go once the import is over", logs=started)


# ---------------------------------------------------------------- a purge

FILLED = 60_000
IMPORTED = 200


async def test_ten_kills_during_a_purge_spend_no_attempt_and_leave_nothing(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    list_id = (await create_list(own.client, tenant, "Purged through crashes"))["_id"]
    await fill_list(sessions(app), tenant.account_id, list_id, FILLED)
    # An import with rejected rows: its job and row errors go with the list.
    items = [{"phoneNumber": phone(100_000 + n)} for n in range(IMPORTED)]
    items += [{"phoneNumber": f"bad-{n}"} for n in range(20)]
    imported = await add_contacts(own.client, tenant, "Purged through crashes", items)
    await own.run_jobs()
    assert await row_errors(app, tenant.account_id) == 20
    total = FILLED + IMPORTED
    app.state.settings = app.state.settings.model_copy(update={"trash_days": 0})
    assert (await delete_list(own.client, tenant, list_id)).status_code == 200
    (purge_id,) = [j.id for j in await jobs_of(app, tenant.account_id) if j.id != imported]
    env = service_settings(tmp_path, job_stale_seconds=1, purge_batch_rows=200)

    async def the_purge() -> Job:
        return await the_job(app, tenant.account_id, purge_id)

    async def removed(_: Job) -> int:
        rows, _numbers = await contacts(app, tenant.account_id, list_id)
        return total - rows

    async def counted(at_kill: Job) -> None:
        assert at_kill.processed == await removed(at_kill), "each batch counted with its removal"

    gone = await kill_while_running(
        started, own.url, env, KILLS, the_purge, removed, "the purge's progress", counted
    )
    assert gone < total

    started.worker(own.url, env)

    async def ended() -> bool:
        return (await the_job(app, tenant.account_id, purge_id)).state != "running"

    await wait_until(ended, "the purge to end", FINISH_SECONDS, started)
    done = await the_job(app, tenant.account_id, purge_id)
    assert (done.state, done.error) == ("completed", None)
    assert done.processed == total, "no batch counted twice"
    assert (done.attempts, done.takeovers) == (1, KILLS)
    assert await contacts(app, tenant.account_id, list_id) == (0, 0)
    assert [j.id for j in await jobs_of(app, tenant.account_id)] == [purge_id]
    assert await row_errors(app, tenant.account_id) == 0
    async with sessions(app)() as session:
        assert await session.get(ContactList, (tenant.account_id, list_id)) is None
