"""Delete means deleted: once a list is purged, nothing of its contacts is anywhere.

A list filled by addContacts (names, custom fields, rejected and duplicate rows) and by an
upload (rejected rows too), deleted and purged: no row of any table and no file under the data
directory holds any of its numbers, names or values; its jobs answer 404. Before the purge
runs, the same scan finds them (it has teeth). And a job's stored items (the addContacts
payload) are gone as soon as it ends, however it ends.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from contactlists.jobs.worker import Handlers, JobContext, WorkerPool
from contactlists.models.jobs import Job
from contactlists.tasks import HANDLERS
from tests.durability.leftovers import files_holding, files_under, rows_holding
from tests.support.contacts import add_contacts, create_list, job
from tests.support.durable import OwnDatabase, sessions
from tests.support.list_wire import assert_not_found, delete_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant
from tests.support.uploads import csv_bytes, upload_ok

pytestmark = pytest.mark.anyio

# Every +1 <code> 55x xxxx number is valid for libphonenumber.
AREA_CODES = (212, 312, 415, 617, 202, 305, 404, 503, 702, 713)


def with_trash_days(app: FastAPI, days: float) -> None:
    app.state.settings = app.state.settings.model_copy(update={"trash_days": days})


def jobs_url(tenant: Tenant, job_id: str) -> str:
    return f"{Paths('v1', tenant.bot).prefix}/jobs/{job_id}"


async def get_job(client: AsyncClient, tenant: Tenant, job_id: str, suffix: str = "") -> Response:
    return await client.get(jobs_url(tenant, job_id) + suffix, headers=tenant.headers())


class Personal:
    """Distinctive contact data for one test: numbers, names, custom values, rejected values."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(3)
        area = secrets.choice(AREA_CODES)
        base = secrets.randbelow(90_000)
        self.numbers = [f"+1{area}55{base + n:05d}" for n in range(0, 40)]
        self.needles: set[str] = set()

    def name(self, what: str, n: int) -> str:
        value = f"{what}{self.tag}x{n}"
        self.needles.add(value)
        return value

    def number(self, n: int) -> str:
        value = self.numbers[n]
        self.needles.add(value)
        self.needles.add(value[2:])  # the national digits, in whatever form they were kept
        return value

    def rejected(self, n: int) -> str:
        value = f"not-a-phone-{self.tag}-{n}"
        self.needles.add(value)
        return value


async def fill_by_add_contacts(own: OwnDatabase, tenant: Tenant, name: str, data: Personal) -> str:
    items: list[dict[str, Any]] = []
    for n in range(10):
        items.append(
            {
                "phoneNumber": data.number(n),
                "firstName": data.name("Firstname", n),
                "lastName": data.name("Lastname", n),
                "uniqueId": data.name("uid", n),
                "Loyalty": data.name("custom", n),
            }
        )
    items.append({"phoneNumber": data.number(0), "firstName": data.name("Twice", 0)})  # duplicate
    items.append({"phoneNumber": data.rejected(0), "firstName": data.name("Bad", 0)})
    return await add_contacts(own.client, tenant, name, items)


async def fill_by_upload(own: OwnDatabase, tenant: Tenant, list_id: str, data: Personal) -> str:
    rows = [["phoneNumber", "firstName", "lastName", "Branch"]]
    for n in range(10, 30):
        rows.append(
            [data.number(n), data.name("Given", n), data.name("Family", n), data.name("b", n)]
        )
    rows.append([data.number(10), data.name("Again", 1), "", ""])  # a duplicate
    rows.append([data.rejected(1), data.name("Wrong", 1), "", ""])
    rows.append([data.rejected(2), data.name("Wrong", 2), "", ""])
    return await upload_ok(own.client, tenant, list_id, csv_bytes(rows))


async def test_after_the_purge_no_table_and_no_file_holds_anything_of_the_list(
    own: OwnDatabase,
) -> None:
    app, client = own.app, own.client
    data_dir: Path = app.state.settings.data_dir
    tenant = await own.tenants.create()
    data = Personal()
    name = f"Doomed {data.tag}"
    data.needles.add(name)
    target = await create_list(client, tenant, name, allowDuplicates=False)
    added = await fill_by_add_contacts(own, tenant, name, data)
    uploaded = await fill_by_upload(own, tenant, target["_id"], data)
    uploaded_again = await fill_by_upload(own, tenant, target["_id"], data)
    assert await own.run_jobs() == 3
    for job_id in (added, uploaded, uploaded_again):
        report = await job(client, tenant, job_id)
        assert report["state"] == "completed", report
        assert report["invalid"] >= 1, report
        assert report["duplicates"] >= 1, report
    # An upload still queued when the list goes: cancelled by the delete, its file removed.
    queued = await fill_by_upload(own, tenant, target["_id"], data)

    # The scan has teeth: before the purge, the list's data is found in the database.
    before = {table for table, _, _ in await rows_holding(sessions(app), data.needles)}
    assert {"contact", "contact_list", "job_error"} <= before, before
    assert files_holding(data_dir, data.needles), "the queued upload's file holds the data"

    with_trash_days(app, 0)
    assert (await delete_list(client, tenant, target["_id"])).status_code == 200
    assert await own.run_jobs() == 1  # the purge

    assert await rows_holding(sessions(app), data.needles) == []
    assert files_holding(data_dir, data.needles) == []
    assert files_under(data_dir) == []
    for job_id in (added, uploaded, uploaded_again, queued):
        assert_not_found(await get_job(client, tenant, job_id))
        assert_not_found(await get_job(client, tenant, job_id, "/errors"))
    # What stays is the purge's own record: no contact data, only what it did.
    async with sessions(app)() as session:
        left = (await session.scalars(select(Job).where(Job.account_id == tenant.account_id))).all()
    assert [(j.kind, j.state, j.list_id, j.payload) for j in left] == [
        ("purge_list", "completed", target["_id"], {})
    ]
    assert left[0].processed == 10 + 20  # every contact the imports stored, once


# ---------------------------------------------------------------- items go when a job ends


async def stored_job(app: FastAPI, account_id: str, job_id: str) -> Job:
    async with sessions(app)() as session:
        found = await session.get(Job, (account_id, job_id), populate_existing=True)
    assert found is not None
    return found


async def assert_items_gone(app: FastAPI, tenant: Tenant, job_id: str, state: str) -> None:
    ended = await stored_job(app, tenant.account_id, job_id)
    assert ended.state == state, (ended.state, ended.error)
    async with sessions(app)() as session:
        # SQL NULL, not a JSON null: nothing of the items is left in the row.
        held = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.account_id == tenant.account_id, Job.id == job_id)
            .where(Job.input_data.is_not(None))
        )
    assert held == 0


def items(data: Personal, first: int, count: int) -> list[dict[str, Any]]:
    return [
        {"phoneNumber": data.number(n), "firstName": data.name("Item", n)}
        for n in range(first, first + count)
    ]


async def test_the_items_of_an_addcontacts_job_go_when_it_ends_however_it_ends(
    own: OwnDatabase,
) -> None:
    app, client = own.app, own.client
    tenant = await own.tenants.create()
    data = Personal()
    name = f"Items {data.tag}"
    target = await create_list(client, tenant, name)

    queued = await add_contacts(client, tenant, name, items(data, 0, 5))
    # While a job may still run, its items are kept: they are its input.
    assert len((await stored_job(app, tenant.account_id, queued)).input_data or []) == 5

    completed = queued
    assert await own.run_jobs() == 1
    await assert_items_gone(app, tenant, completed, "completed")

    cancelled = await add_contacts(client, tenant, name, items(data, 5, 5))
    response = await client.post(jobs_url(tenant, cancelled) + "/cancel", headers=tenant.headers())
    assert response.status_code == 200, response.text
    await assert_items_gone(app, tenant, cancelled, "cancelled")

    # A job whose handler keeps failing: the pool gives up on it, and its items go with that.
    failing = await add_contacts(client, tenant, name, items(data, 10, 5))

    async def broken(context: JobContext) -> None:
        raise RuntimeError("a bug")

    settings = app.state.settings.model_copy(
        update={"job_max_attempts": 2, "job_retry_seconds": 0.01, "job_retry_max_seconds": 0.01}
    )
    pool = WorkerPool(sessions(app), settings, Handlers({"add_contacts": broken}), count=0)
    try:
        while (await stored_job(app, tenant.account_id, failing)).state == "queued":
            await pool.run_until_idle()
    finally:
        await pool.stop()
    await assert_items_gone(app, tenant, failing, "failed")
    assert (await stored_job(app, tenant.account_id, failing)).attempts == 2

    # Queued when its list is deleted: cancelled by the delete, in the delete's transaction.
    orphaned = await add_contacts(client, tenant, name, items(data, 15, 5))
    assert (await delete_list(client, tenant, target["_id"])).status_code == 200
    await assert_items_gone(app, tenant, orphaned, "cancelled")

    # Nothing of the items is left in the job table (the list's contacts are in the trash).
    left = await rows_holding(sessions(app), data.needles)
    assert {table for table, _, _ in left} == {"contact"}, left
    assert HANDLERS  # the real registry ran the completed job
