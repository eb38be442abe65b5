"""Deleting a list (CONTRACT §4.5): the trash, restore, the purge, and the list's imports.

A delete answers at once and leaves the contacts in the trash with the list; a restore
within ``CONTACTLISTS_TRASH_DAYS`` brings both back; when the period ends (at once with 0) a
purge job removes the contacts in bounded batches, then the list's row. Counts are taken in
the ``contact`` table itself, not through the API, which no longer shows a deleted list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy import update as sql_update

from contactlists.config import Settings
from contactlists.db import migrate
from contactlists.jobs.worker import WorkerPool
from contactlists.models.contacts import Contact
from contactlists.models.jobs import Job
from contactlists.models.lists import ContactList
from contactlists.tasks import HANDLERS
from contactlists.trash.purge import PURGE_LIST
from tests.support.contacts import add_contacts, all_contacts, create_list, job
from tests.support.durable import OwnDatabase, service_settings, sessions, wait_until
from tests.support.envelope import assert_failure
from tests.support.fill import fill_list
from tests.support.list_wire import assert_full_shape, assert_not_found, delete_list, get_list
from tests.support.paths import Paths
from tests.support.processes import Processes
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
SECONDS = 1 / 86_400  # CONTACTLISTS_TRASH_DAYS is in days


def numbers(count: int, start: int = 0) -> list[dict[str, str]]:
    return [{"phoneNumber": f"+1212555{n:04d}"} for n in range(start, start + count)]


async def list_with_contacts(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, name: str, count: int
) -> dict[str, Any]:
    created = await create_list(client, tenant, name)
    await add_contacts(client, tenant, name, numbers(count))
    await run_jobs()
    return created


async def contact_rows(app: FastAPI, account_id: str, list_id: str) -> int:
    async with sessions(app)() as session:
        query = select(func.count()).where(
            Contact.account_id == account_id, Contact.list_id == list_id
        )
        return int(await session.scalar(query) or 0)


async def list_row_exists(app: FastAPI, account_id: str, list_id: str) -> bool:
    async with sessions(app)() as session:
        found = await session.get(ContactList, (account_id, list_id), populate_existing=True)
        return found is not None


async def purge_jobs(app: FastAPI, account_id: str, list_id: str) -> list[Job]:
    async with sessions(app)() as session:
        query = select(Job).where(
            Job.account_id == account_id, Job.list_id == list_id, Job.kind == PURGE_LIST
        )
        return list((await session.scalars(query)).all())


def with_trash_days(app: FastAPI, days: float) -> None:
    """The app's trash period from now on (requests read the settings per request)."""
    app.state.settings = app.state.settings.model_copy(update={"trash_days": days})


async def restore(client: AsyncClient, tenant: Tenant, list_id: str, family: str = "v1") -> Any:
    return await client.post(
        f"{Paths(family, tenant.bot).list(list_id)}/restore", headers=tenant.headers()
    )


def pool(app: FastAPI, settings: Settings, **changes: Any) -> WorkerPool:
    """A worker pool of its own on the app's database, with changed settings."""
    return WorkerPool(sessions(app), settings.model_copy(update=changes), HANDLERS, count=0)


# ---------------------------------------------------------------- the trash and restore


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_a_deleted_list_restores_with_all_its_contacts(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    unique_name: str,
    family: str,
) -> None:
    created = await list_with_contacts(client, tenant, run_jobs, unique_name, 30)
    list_id = created["_id"]
    before = await all_contacts(client, tenant, list_id)

    deleted = await delete_list(client, tenant, list_id, family)
    assert deleted.status_code == 200, deleted.text
    assert_not_found(await get_list(client, tenant, list_id))
    await run_jobs()  # the purge is not due for days: nothing runs
    assert await contact_rows(app, tenant.account_id, list_id) == 30

    response = await restore(client, tenant, list_id, family)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == f"Contact list {unique_name} restored successfully"
    assert_full_shape(body["data"], family)
    assert body["data"]["_id"] == list_id
    assert body["data"]["totalRecordCount"] == 30
    assert (await get_list(client, tenant, list_id)).status_code == 200
    assert await all_contacts(client, tenant, list_id) == before
    # Its purge was cancelled, so nothing removes the contacts later.
    [purge] = await purge_jobs(app, tenant.account_id, list_id)
    assert purge.state == "cancelled"
    await run_jobs()
    assert await contact_rows(app, tenant.account_id, list_id) == 30


async def test_a_restored_list_can_be_deleted_and_restored_again(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id = (await list_with_contacts(client, tenant, run_jobs, unique_name, 5))["_id"]
    for _ in range(2):
        assert (await delete_list(client, tenant, list_id)).status_code == 200
        assert (await restore(client, tenant, list_id)).status_code == 200
    assert [j.state for j in await purge_jobs(app, tenant.account_id, list_id)] == [
        "cancelled",
        "cancelled",
    ]
    assert await contact_rows(app, tenant.account_id, list_id) == 5


async def test_restore_is_refused_while_another_list_has_the_name(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id = (await list_with_contacts(client, tenant, run_jobs, unique_name, 3))["_id"]
    assert (await delete_list(client, tenant, list_id)).status_code == 200
    newcomer = await create_list(client, tenant, unique_name.upper())

    refused = await restore(client, tenant, list_id)
    [entry] = assert_failure(refused, 409, "duplicate_name")
    assert unique_name in entry["msg"]
    # Nothing changed: still in the trash, its purge still waiting.
    assert_not_found(await get_list(client, tenant, list_id))
    [purge] = await purge_jobs(app, tenant.account_id, list_id)
    assert purge.state == "queued"

    renamed = await client.put(
        Paths("v1", tenant.bot).list(newcomer["_id"]),
        json={"name": f"{unique_name} (new)"},
        headers=tenant.headers(),
    )
    assert renamed.status_code == 200, renamed.text
    assert (await restore(client, tenant, list_id)).status_code == 200
    assert await contact_rows(app, tenant.account_id, list_id) == 3


async def test_restore_of_a_live_unknown_or_foreign_list_is_404(
    client: AsyncClient, tenants: TenantFactory, tenant: Tenant, unique_name: str
) -> None:
    live = await create_list(client, tenant, unique_name)
    assert_not_found(await restore(client, tenant, live["_id"]))
    assert_not_found(await restore(client, tenant, "cl-00000000-0000-4000-8000-000000000000"))

    assert (await delete_list(client, tenant, live["_id"])).status_code == 200
    stranger = await tenants.create()
    assert_not_found(await restore(client, stranger, live["_id"]))
    assert (await restore(client, tenant, live["_id"])).status_code == 200


async def test_restore_needs_the_write_scope(
    client: AsyncClient, tenants: TenantFactory, tenant: Tenant, unique_name: str
) -> None:
    list_id = (await create_list(client, tenant, unique_name))["_id"]
    assert (await delete_list(client, tenant, list_id)).status_code == 200
    reader = await tenants.create(
        account_id=tenant.account_id, bots=[tenant.bot], scopes=["campaign-read"]
    )
    assert_failure(await restore(client, reader, list_id), 403, "forbidden", 4003)
    assert_failure(
        await client.post(f"{Paths('v1', tenant.bot).list(list_id)}/restore"),
        401,
        "invalid_credentials",
        4002,
    )


async def test_after_the_trash_period_restore_is_refused_and_the_purge_runs(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id = (await list_with_contacts(client, tenant, run_jobs, unique_name, 12))["_id"]
    with_trash_days(app, 1.5 * SECONDS)
    assert (await delete_list(client, tenant, list_id)).status_code == 200
    await run_jobs()
    assert await contact_rows(app, tenant.account_id, list_id) == 12, "still in the trash"

    await asyncio.sleep(1.6)
    assert_not_found(await restore(client, tenant, list_id))
    await run_jobs()
    assert await contact_rows(app, tenant.account_id, list_id) == 0
    assert not await list_row_exists(app, tenant.account_id, list_id)
    [purge] = await purge_jobs(app, tenant.account_id, list_id)
    assert (purge.state, purge.processed) == ("completed", 12)


# ---------------------------------------------------------------- the purge


async def test_with_trash_days_zero_the_purge_starts_at_once(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    with_trash_days(app, 0)
    doomed = (await list_with_contacts(client, tenant, run_jobs, unique_name, 40))["_id"]
    kept = (await list_with_contacts(client, tenant, run_jobs, f"{unique_name} kept", 25))["_id"]

    assert (await delete_list(client, tenant, doomed)).status_code == 200
    assert_not_found(await restore(client, tenant, doomed))
    await run_jobs()
    assert await contact_rows(app, tenant.account_id, doomed) == 0
    assert not await list_row_exists(app, tenant.account_id, doomed)
    # Only the deleted list's contacts go.
    assert await contact_rows(app, tenant.account_id, kept) == 25
    assert len(await all_contacts(client, tenant, kept)) == 25


async def test_the_purge_removes_contacts_in_bounded_batches(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    await run_jobs()
    with_trash_days(app, 0)
    list_id = (await create_list(client, tenant, unique_name))["_id"]
    await fill_list(sessions(app), tenant.account_id, list_id, 2_000)
    assert (await delete_list(client, tenant, list_id)).status_code == 200

    purging = pool(app, settings, purge_batch_rows=100)
    worker = asyncio.create_task(purging.run_until_idle())
    seen: set[int] = set()
    try:
        while not worker.done():
            left = await contact_rows(app, tenant.account_id, list_id)
            # Every committed state is a whole number of batches: none is half-removed.
            assert left % 100 == 0, left
            seen.add(left)
            await asyncio.sleep(0.005)
        assert await worker == 1
    finally:
        await asyncio.gather(worker, return_exceptions=True)
        await purging.stop()
    assert len(seen - {0, 2_000}) >= 2, f"readers saw the purge in steps: {sorted(seen)}"
    [purge] = await purge_jobs(app, tenant.account_id, list_id)
    assert (purge.state, purge.processed) == ("completed", 2_000)
    assert not await list_row_exists(app, tenant.account_id, list_id)


PURGE_CONTACTS = 100_000
PURGE_BATCH = 500


async def test_a_server_killed_mid_purge_finishes_the_purge_when_it_starts_again(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    list_id = (await create_list(own.client, tenant, "Purged in a crash"))["_id"]
    await fill_list(sessions(app), tenant.account_id, list_id, PURGE_CONTACTS)
    env = service_settings(
        tmp_path, trash_days=0, purge_batch_rows=PURGE_BATCH, job_stale_seconds=2
    )
    server = started.serve(own.url, env)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        assert (await delete_list(http, tenant, list_id)).status_code == 200

    async def partly_purged() -> bool:
        return 0 < await contact_rows(app, tenant.account_id, list_id) < PURGE_CONTACTS

    await wait_until(partly_purged, "the purge's first batches", logs=started)
    server.kill()
    at_crash = await contact_rows(app, tenant.account_id, list_id)
    assert 0 < at_crash < PURGE_CONTACTS
    assert at_crash % PURGE_BATCH == 0, "the crash cuts between batches, never inside one"

    started.serve(own.url, env)

    async def purged() -> bool:
        return not await list_row_exists(app, tenant.account_id, list_id)

    await wait_until(purged, "the purge to finish after the restart", logs=started)
    assert await contact_rows(app, tenant.account_id, list_id) == 0
    [purge] = await purge_jobs(app, tenant.account_id, list_id)
    assert purge.state == "completed"
    assert purge.takeovers >= 1, "the interrupted purge was taken over"
    assert purge.attempts == 1, "a crash is not a failed attempt"
    assert purge.processed == PURGE_CONTACTS, "no batch was counted twice"


# ---------------------------------------------------------------- the list's imports


async def test_deleting_a_list_cancels_its_queued_import(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    await run_jobs()
    list_id = (await create_list(client, tenant, unique_name))["_id"]
    job_id = await add_contacts(client, tenant, unique_name, numbers(50))
    assert (await delete_list(client, tenant, list_id)).status_code == 200

    report = await job(client, tenant, job_id)
    assert report["state"] == "cancelled"
    assert report["error"] == "the contact list was deleted"
    await run_jobs()
    assert (await job(client, tenant, job_id))["processed"] == 0
    assert await contact_rows(app, tenant.account_id, list_id) == 0


async def test_deleting_a_list_while_its_import_runs_leaves_none_of_its_contacts(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    await run_jobs()
    # The purge is due soon after the delete, once the import's end has been looked at.
    with_trash_days(app, 1.5 * SECONDS)
    list_id = (await create_list(client, tenant, unique_name))["_id"]
    job_id = await add_contacts(client, tenant, unique_name, numbers(5_000))
    importing = pool(app, settings, import_batch_rows=50)
    worker = asyncio.create_task(importing.run_until_idle())

    async def some_stored() -> bool:
        return await contact_rows(app, tenant.account_id, list_id) > 0

    try:
        await wait_until(some_stored, "the import's first batches")
        assert (await delete_list(client, tenant, list_id)).status_code == 200
        at_delete = await job(client, tenant, job_id)
        await worker  # the import stops at its next batch
    finally:
        await asyncio.gather(worker, return_exceptions=True)
        await importing.stop()

    report = await job(client, tenant, job_id)
    assert report["state"] == "cancelled"
    assert 0 < report["inserted"] < 5_000
    # No batch committed after the delete.
    assert report["inserted"] == at_delete["inserted"]
    await asyncio.sleep(1.6)
    await run_jobs()
    assert await contact_rows(app, tenant.account_id, list_id) == 0
    assert not await list_row_exists(app, tenant.account_id, list_id)
    # The purge took the list's import with it.
    assert_not_found(
        await client.get(
            f"{Paths('v1', tenant.bot).prefix}/jobs/{job_id}", headers=tenant.headers()
        )
    )


async def test_upgrading_queues_the_purge_of_lists_deleted_before_the_trash(
    own: OwnDatabase,
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    kept = await list_with_contacts(own.client, tenant, own.run_jobs, "Kept", 3)
    old = await list_with_contacts(own.client, tenant, own.run_jobs, "Deleted long ago", 5)
    assert (await delete_list(own.client, tenant, old["_id"])).status_code == 200
    # As a list deleted before migration 0003 left it: past its trash period, no purge queued.
    async with sessions(app)() as session, session.begin():
        await session.execute(sql_delete(Job).where(Job.list_id == old["_id"]))
        await session.execute(
            sql_update(ContactList)
            .where(ContactList.id == old["_id"])
            .values(purge_after=ContactList.deleted_at)
        )

    await asyncio.to_thread(migrate.downgrade, own.url, "0003_campaigns_and_trash")
    await asyncio.to_thread(migrate.upgrade, own.url)
    queued = await purge_jobs(app, tenant.account_id, old["_id"])
    assert [(j.state, j.list_id) for j in queued] == [("queued", old["_id"])]
    assert await purge_jobs(app, tenant.account_id, kept["_id"]) == []
    # A purge already waiting is not queued twice.
    await asyncio.to_thread(migrate.downgrade, own.url, "0003_campaigns_and_trash")
    await asyncio.to_thread(migrate.upgrade, own.url)
    assert len(await purge_jobs(app, tenant.account_id, old["_id"])) == 1

    await own.run_jobs()
    assert await contact_rows(app, tenant.account_id, old["_id"]) == 0
    assert not await list_row_exists(app, tenant.account_id, old["_id"])
    assert await contact_rows(app, tenant.account_id, kept["_id"]) == 3
