"""Undo of an import: the list exactly as before (every contact, every column), the refusals,
what was changed since, and an import into the same list at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from contactlists.config import Settings
from contactlists.jobs.worker import WorkerPool, new_worker_name
from contactlists.models.contacts import ContactPrior
from tests.support.contacts import add_contacts, create_list, job
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.snapshots import record_count, stored_contacts
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
BATCH = 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_batch_rows": BATCH})


def number(n: int) -> str:
    return f"+1312555{n:04d}"


def items(numbers: range | list[int], name: str, **extra: str) -> list[dict[str, Any]]:
    return [{"phoneNumber": number(n), "firstName": f"{name}{n}", **extra} for n in numbers]


async def undo(client: AsyncClient, tenant: Tenant, job_id: str, family: str = "v2") -> Response:
    url = f"{Paths(family, tenant.bot).prefix}/jobs/{job_id}/undo"
    return await client.post(url, headers=tenant.headers())


async def undo_ok(client: AsyncClient, tenant: Tenant, job_id: str, family: str = "v2") -> Any:
    response = await undo(client, tenant, job_id, family)
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert list(accepted) == ["status", "message", "jobId"]
    body = await job(client, tenant, accepted["jobId"])
    assert (body["type"], body["state"]) == ("undo_import", "queued")
    return body


async def test_undo_of_an_insert_leaves_the_list_exactly_as_before(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, items(range(5), "A", tier="x"))
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    imported = await add_contacts(
        client, tenant, unique_name, [*items(range(3, 14), "B"), {"phoneNumber": "bad"}]
    )
    await run_jobs()
    assert (await job(client, tenant, imported))["inserted"] == 9

    started = await undo_ok(client, tenant, imported, family="v1")
    assert await run_jobs() == 1
    done = await job(client, tenant, started["_id"])
    assert (done["state"], done["removed"], done["restored"], done["invalid"]) == (
        "completed",
        9,
        0,
        0,
    )
    assert await stored_contacts(app, tenant.account_id, target["_id"]) == before
    assert await record_count(app, tenant.account_id, target["_id"]) == 5
    assert (await job(client, tenant, imported))["undoneBy"] == started["_id"]


async def test_undo_of_an_upsert_restores_every_field_of_every_contact(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(
        client, tenant, unique_name, items(range(10), "A", tier="x", timeZone="America/Denver")
    )
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    upsert = [
        {"phoneNumber": number(n), "lastName": f"B{n}", "tier": "y", "extra": "e"}
        for n in range(0, 16, 2)
    ]
    imported = await add_contacts(client, tenant, unique_name, upsert, on_duplicate="update")
    await run_jobs()
    report = await job(client, tenant, imported)
    assert (report["inserted"], report["updated"]) == (3, 5)
    assert await stored_contacts(app, tenant.account_id, target["_id"]) != before

    started = await undo_ok(client, tenant, imported)
    await run_jobs()
    done = await job(client, tenant, started["_id"])
    assert (done["removed"], done["restored"], done["invalid"]) == (3, 5, 0)
    assert await stored_contacts(app, tenant.account_id, target["_id"]) == before
    assert await record_count(app, tenant.account_id, target["_id"]) == 10


async def test_contacts_changed_since_are_left_as_they_are_and_named(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    first = await add_contacts(client, tenant, unique_name, items(range(6), "A"))
    await run_jobs()
    # A later import updates contacts 0 and 1; contact 2 is edited by hand.
    later = await add_contacts(
        client, tenant, unique_name, items(range(2), "Later"), on_duplicate="update"
    )
    await run_jobs()
    contacts = await stored_contacts(app, tenant.account_id, target["_id"])
    edit_url = f"{Paths('v2', tenant.bot).list(target['_id'])}/contacts/{contacts[3]['id']}"
    edited = await client.put(edit_url, json={"lastName": "Hand"}, headers=tenant.headers())
    assert edited.status_code == 200, edited.text
    kept = await stored_contacts(app, tenant.account_id, target["_id"])

    started = await undo_ok(client, tenant, first)
    await run_jobs()
    done = await job(client, tenant, started["_id"])
    assert (done["removed"], done["invalid"]) == (3, 3)
    assert sorted((e["row"], e["code"], e["value"]) for e in done["errors"]) == [
        (p, "changed_since", kept[p]["id"]) for p in (1, 2, 3)
    ]
    after = await stored_contacts(app, tenant.account_id, target["_id"])
    assert after == {p: kept[p] for p in (1, 2, 3)}
    assert await record_count(app, tenant.account_id, target["_id"]) == 3
    # The later import can still be undone: its contacts get the first import's values back.
    await undo_ok(client, tenant, later)
    await run_jobs()
    restored = await stored_contacts(app, tenant.account_id, target["_id"])
    assert [restored[p]["first_name"] for p in (1, 2)] == ["A0", "A1"]


async def test_undo_is_refused_unless_a_finished_import_not_yet_undone_of_the_caller(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    unique_name: str,
    run_jobs: RunJobs,
) -> None:
    await create_list(client, tenant, unique_name)
    imported = await add_contacts(client, tenant, unique_name, items(range(3), "A"))
    # Queued, not finished.
    assert_failure(await undo(client, tenant, imported), 409, "conflict")
    await run_jobs()
    stranger = await tenants.create()
    assert_failure(await undo(client, stranger, imported), 404, "not_found")
    assert_failure(
        await undo(client, tenant, "job-00000000-0000-4000-8000-000000000000"), 404, "not_found"
    )
    started = await undo_ok(client, tenant, imported)
    # Twice, while the first is queued, and after it ran.
    assert_failure(await undo(client, tenant, imported, "v1"), 409, "conflict")
    await run_jobs()
    assert_failure(await undo(client, tenant, imported), 409, "conflict")
    # An undo is not an import.
    assert_failure(await undo(client, tenant, started["_id"]), 409, "conflict")
    assert await run_jobs() == 0


async def test_two_undos_of_one_import_at_once_queue_one(
    client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    await create_list(client, tenant, unique_name)
    imported = await add_contacts(client, tenant, unique_name, items(range(3), "A"))
    await run_jobs()
    answers = await asyncio.gather(*(undo(client, tenant, imported) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert await run_jobs() == 1


async def test_an_undo_and_an_import_into_the_same_list_at_once_keep_it_exact(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, items(range(20), "A"))
    await run_jobs()
    undone = await add_contacts(
        client, tenant, unique_name, items(range(30), "J"), on_duplicate="update"
    )  # updates 0-19, inserts 20-29
    await run_jobs()
    undoing = await undo_ok(client, tenant, undone)
    # Updates 5-14 and 25 (which the undone import inserted), inserts 30-39.
    concurrent = await add_contacts(
        client,
        tenant,
        unique_name,
        items([*range(5, 15), 25, *range(30, 40)], "K"),
        on_duplicate="update",
    )
    pool: WorkerPool = app.state.workers
    ran = await asyncio.gather(pool.run_one(new_worker_name()), pool.run_one(new_worker_name()))
    assert ran == [True, True]

    after = await stored_contacts(app, tenant.account_id, target["_id"])
    names = {row["phone"]: row["first_name"] for row in after.values()}
    expected = {number(n): f"A{n}" for n in range(20)}
    expected |= {number(n): f"K{n}" for n in [*range(5, 15), 25, *range(30, 40)]}
    assert names == expected
    assert len(after) == await record_count(app, tenant.account_id, target["_id"])
    report = await job(client, tenant, concurrent)
    assert report["inserted"] + report["updated"] == 21
    undo_report = await job(client, tenant, undoing["_id"])
    # They ran at the same time, batch by batch in turns.
    assert undo_report["startedAt"] <= report["finishedAt"]
    assert report["startedAt"] <= undo_report["finishedAt"]


async def prior_values(app: FastAPI, account_id: str) -> int:
    async with app.state.sessionmaker() as session:
        query = select(func.count()).where(ContactPrior.account_id == account_id)
        return int(await session.scalar(query) or 0)


async def test_prior_values_go_with_their_contact_their_undo_and_the_lists_purge(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, items(range(6), "A"))
    await run_jobs()
    upsert = await add_contacts(
        client, tenant, unique_name, items(range(6), "Secret"), on_duplicate="update"
    )
    await run_jobs()
    assert await prior_values(app, tenant.account_id) == 6
    # A contact deleted by hand leaves no copy of its earlier values.
    contacts = await stored_contacts(app, tenant.account_id, target["_id"])
    url = f"{Paths('v2', tenant.bot).list(target['_id'])}/contacts/{contacts[1]['id']}"
    assert (await client.delete(url, headers=tenant.headers())).status_code == 200
    assert await prior_values(app, tenant.account_id) == 5
    # The undo uses them up.
    await undo_ok(client, tenant, upsert)
    await run_jobs()
    assert await prior_values(app, tenant.account_id) == 0
    # A purged list takes every record of its jobs' updates with it.
    again = await add_contacts(
        client, tenant, unique_name, items(range(2, 6), "Again"), on_duplicate="update"
    )
    await run_jobs()
    assert (await job(client, tenant, again))["updated"] == 4
    assert await prior_values(app, tenant.account_id) == 4
    app.state.settings = app.state.settings.model_copy(update={"trash_days": 0})
    deleted = await client.delete(
        Paths("v2", tenant.bot).list(target["_id"]), headers=tenant.headers()
    )
    assert deleted.status_code == 200, deleted.text
    await run_jobs()
    assert await prior_values(app, tenant.account_id) == 0
