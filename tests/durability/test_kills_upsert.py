"""Crashes during an upsert: five SIGKILLs while an upload updates and inserts, then its undo.

A batch that updates contacts writes their prior values in its transaction; one replayed after
a kill was rolled back whole, so it decides again exactly as before (the first row for a key
wins, whichever batch it is in). The job ends with exact counts, every contact holds what the
file's first row for it says, each updated contact has one prior-value record, and the undo
then gives back the list exactly as it was, every column of every contact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from contactlists.models.contacts import ContactPrior
from contactlists.models.jobs import Job
from tests.durability.kills import kill_while_running, the_job
from tests.durability.test_kills import FINISH_SECONDS
from tests.support.contacts import create_list, job
from tests.support.durable import OwnDatabase, service_settings, sessions, wait_until
from tests.support.fill import fill_list
from tests.support.processes import Processes
from tests.support.snapshots import record_count, stored_contacts
from tests.support.uploads import csv_bytes, upload_ok

pytestmark = [pytest.mark.anyio, pytest.mark.serial]

KILLS = 5
FILLED = 6_000
ROWS = 12_000
REJECTED_EVERY = 25
REPEATED_EVERY = 40


def filled_number(k: int) -> str:
    """The number fill_list gave contact ``k`` (1-based)."""
    return f"+1212{2_000_000 + k}"


def new_number(n: int) -> str:
    return f"+1415555{n % 10_000:04d}" if n < 10_000 else f"+1617555{n % 10_000:04d}"


def upsert_file() -> tuple[bytes, dict[str, str], int, int, int]:
    """The CSV; the first name each number ends with; counts inserted, updated, invalid
    (the rest are duplicates)."""
    rows = [["phoneNumber", "firstName"]]
    first: dict[str, str] = {}
    inserted = updated = invalid = 0
    for n in range(ROWS):
        if n % REJECTED_EVERY == 0:
            rows.append([f"bad-{n}", "Rejected"])
            invalid += 1
            continue
        if n % REPEATED_EVERY == 1 and n > 1:
            number = rows[-2][0] if rows[-2][0].startswith("+") else rows[-1][0]
        elif n % 2 == 0:
            number = filled_number(n // 2 + 1)  # an existing contact: updated
        else:
            number = new_number(n)
        rows.append([number, f"Row {n}"])
        if number in first:
            continue  # a duplicate: the first row won
        first[number] = f"Row {n}"
        if number.startswith("+1212"):
            updated += 1
        else:
            inserted += 1
    return csv_bytes(rows), first, inserted, updated, invalid


async def priors(own: OwnDatabase, account_id: str) -> int:
    async with sessions(own.app)() as session:
        query = select(func.count()).where(ContactPrior.account_id == account_id)
        return int(await session.scalar(query) or 0)


async def test_kills_during_an_upsert_lose_nothing_and_its_undo_restores_the_list(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    target = await create_list(own.client, tenant, "Upserted through crashes")
    list_id = target["_id"]
    await fill_list(sessions(app), tenant.account_id, list_id, FILLED)
    before = await stored_contacts(app, tenant.account_id, list_id)
    content, first, inserted, updated, invalid = upsert_file()
    duplicates = ROWS - inserted - updated - invalid
    job_id = await upload_ok(own.client, tenant, list_id, content, on_duplicate="update")
    env = service_settings(
        tmp_path, job_stale_seconds=1, import_batch_rows=100, normalise_processes=0
    )

    async def the_import() -> Job:
        return await the_job(app, tenant.account_id, job_id)

    async def processed(job: Job) -> int:
        return job.processed

    async def priors_kept(at_kill: Job) -> None:
        assert await priors(own, tenant.account_id) == at_kill.updated

    seen = await kill_while_running(
        started, own.url, env, KILLS, the_import, processed, "the worker's progress", priors_kept
    )
    assert seen < ROWS

    last = started.worker(own.url, env)

    async def ended() -> bool:
        return (await the_job(app, tenant.account_id, job_id)).state != "running"

    await wait_until(ended, "the import to end", FINISH_SECONDS, started)
    done = await the_job(app, tenant.account_id, job_id)
    assert (done.state, done.error) == ("completed", None)
    assert (done.processed, done.inserted, done.updated) == (ROWS, inserted, updated)
    assert (done.invalid, done.duplicates) == (invalid, duplicates)
    assert (done.attempts, done.takeovers) == (1, KILLS)
    assert await priors(own, tenant.account_id) == updated

    after = await stored_contacts(app, tenant.account_id, list_id)
    assert len(after) == FILLED + inserted == await record_count(app, tenant.account_id, list_id)
    for position, contact in after.items():
        assert contact["first_name"] == first.get(contact["phone"], "First"), position
    assert len({contact["phone"] for contact in after.values()}) == len(after)

    last.stop()  # the undo runs here, in this test's own worker
    undo = await own.client.post(
        f"/campaign/api/v2/public/{tenant.bot}/campaign/jobs/{job_id}/undo",
        headers=tenant.headers(),
    )
    assert undo.status_code == 200, undo.text
    await own.run_jobs()
    report = await job(own.client, tenant, undo.json()["jobId"])
    assert (report["state"], report["removed"], report["restored"]) == (
        "completed",
        inserted,
        updated,
    )
    assert await stored_contacts(app, tenant.account_id, list_id) == before
    assert await priors(own, tenant.account_id) == 0
