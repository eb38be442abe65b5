"""Each event reaches the hooks that want it, once, signed; recorded with what caused it.

job.completed, job.failed, list.deleted and list.restored are recorded in the outbox by the
transaction that causes them (the statement ending the job, the trash's delete and restore),
so a transaction rolled back tells nothing. A hook is told only of its app's bots, and not at
all once its app is revoked.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from contactlists.auth import Caller
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs import service as jobs
from contactlists.jobs.worker import Handlers, JobContext, WorkerPool
from contactlists.models.jobs import Job
from contactlists.models.webhooks import DELIVERY_DELIVERED, WebhookDelivery
from contactlists.trash import service as trash
from contactlists.webhooks.delivery import deliver_some
from contactlists.webhooks.events import EVENT_TYPES
from tests.support.contacts import add_contacts, create_list
from tests.support.durable import OwnDatabase, sessions
from tests.support.list_wire import delete_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant
from tests.webhooks.hooks import add_hook, deliveries, signed_event
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.anyio

FAILING_KIND = "webhook_test_fails"


def caller_of(tenant: Tenant) -> Caller:
    return Caller(tenant.client_id, tenant.account_id, tenant.org_id, tenant.bot, "u-tester")


async def fail_a_job(own: OwnDatabase, tenant: Tenant) -> str:
    """A job whose handler fails, with one attempt allowed: the worker ends it as failed."""
    async with sessions(own.app)() as session, session.begin():
        job = await jobs.enqueue(
            session, caller_of(tenant), kind=FAILING_KIND, list_id=None, payload={}, total=None
        )

    async def failing(context: JobContext) -> None:
        raise RuntimeError("the disk is full")

    settings = own.app.state.settings.model_copy(update={"job_max_attempts": 1})
    pool = WorkerPool(sessions(own.app), settings, Handlers({FAILING_KIND: failing}), count=0)
    try:
        assert await pool.run_until_idle() == 1
    finally:
        await pool.stop()
    return job.id


@pytest.mark.serial
async def test_each_event_reaches_the_hook_once_with_a_valid_signature(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    engine = own.app.state.engine
    # No connection is checked out while a receiver is being sent an event.
    with receiver(probe=lambda: engine.pool.checkedout()) as hook_server:
        await add_hook(made, tenant.client_id, hook_server.url)
        created = await create_list(own.client, tenant, "Told of")
        import_id = await add_contacts(
            own.client, tenant, "Told of", [{"phoneNumber": "+12125550100"}]
        )
        await own.run_jobs()
        assert (await delete_list(own.client, tenant, created["_id"])).status_code == 200
        restored = await own.client.post(
            f"{Paths('v1', tenant.bot).list(created['_id'])}/restore", headers=tenant.headers()
        )
        assert restored.status_code == 200, restored.text
        failed_id = await fail_a_job(own, tenant)

        assert await deliver_some(made, own.app.state.settings) == 4
        received = hook_server.snapshot()

        assert [item.probed for item in received] == [0] * 4
        events = [signed_event(item, tenant.client_secret) for item in received]
        assert Counter(event["type"] for event in events) == Counter(EVENT_TYPES)
        assert len({event["id"] for event in events}) == 4
        by_type = {event["type"]: event["data"] for event in events}
        completed = by_type["job.completed"]
        assert completed["jobId"] == import_id
        assert completed["state"] == "completed"
        assert completed["contactListId"] == created["_id"]
        assert completed["botId"] == tenant.bot
        assert (completed["processed"], completed["inserted"], completed["error"]) == (1, 1, None)
        failed = by_type["job.failed"]
        assert failed["jobId"] == failed_id
        assert failed["jobType"] == FAILING_KIND
        assert failed["state"] == "failed"
        assert "gave up after 1 attempts: RuntimeError" in failed["error"]
        for kind in ("list.deleted", "list.restored"):
            assert by_type[kind] == {
                "contactListId": created["_id"],
                "botId": tenant.bot,
                "name": "Told of",
            }

        # Acknowledged: never sent again, however often the worker looks.
        for _ in range(3):
            assert await deliver_some(made, own.app.state.settings) == 0
        assert len(hook_server.snapshot()) == 4
    recorded = await deliveries(made, tenant.account_id)
    assert [(d.state, d.attempts, d.locked_by) for d in recorded] == [
        (DELIVERY_DELIVERED, 1, None)
    ] * 4


async def test_a_hook_is_told_only_of_the_events_it_listens_to(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    only_deletes = await add_hook(made, tenant.client_id, "https://a.example/h", ["list.deleted"])
    every = await add_hook(made, tenant.client_id, "https://b.example/h")
    created = await create_list(own.client, tenant, "Filtered")
    await add_contacts(own.client, tenant, "Filtered", [{"phoneNumber": "+12125550100"}])
    await own.run_jobs()
    assert (await delete_list(own.client, tenant, created["_id"])).status_code == 200

    recorded = await deliveries(made, tenant.account_id)
    assert sorted((d.hook_id, d.event_type) for d in recorded) == sorted(
        [
            (only_deletes.hook.id, "list.deleted"),
            (every.hook.id, "job.completed"),
            (every.hook.id, "list.deleted"),
        ]
    )
    # One event, one id, whichever hook it goes to.
    deleted_ids = {d.event_id for d in recorded if d.event_type == "list.deleted"}
    assert len(deleted_ids) == 1


async def test_only_the_apps_that_may_use_the_bot_are_told(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    other_bot = await own.tenants.create(account_id=tenant.account_id)
    all_bots = await own.tenants.create(account_id=tenant.account_id, all_bots=True)
    revoked = await own.tenants.create(account_id=tenant.account_id, all_bots=True)
    elsewhere = await own.tenants.create(all_bots=True)  # another account
    hooks = {}
    for name, app in [
        ("own", tenant),
        ("other bot", other_bot),
        ("all bots", all_bots),
        ("revoked", revoked),
        ("elsewhere", elsewhere),
    ]:
        hooks[(await add_hook(made, app.client_id, "https://h.example/")).hook.id] = name
    await own.tenants.revoke(revoked)

    created = await create_list(own.client, tenant, "Scoped")
    assert (await delete_list(own.client, tenant, created["_id"])).status_code == 200

    recorded = await deliveries(made, tenant.account_id)
    assert sorted(hooks[d.hook_id] for d in recorded) == ["all bots", "own"]
    assert await deliveries(made, elsewhere.account_id) == []


async def test_a_delete_rolled_back_tells_nothing(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    await add_hook(made, tenant.client_id, "https://h.example/")
    created = await create_list(own.client, tenant, "Kept")
    settings = own.app.state.settings

    async with made() as session:
        await trash.delete(
            session, caller_of(tenant), created["_id"], force=False, settings=settings
        )
        seen = select(WebhookDelivery).where(WebhookDelivery.account_id == tenant.account_id)
        assert len((await session.scalars(seen)).all()) == 1
        await session.rollback()
    assert await deliveries(made, tenant.account_id) == []

    async with made() as session, session.begin():
        await trash.delete(
            session, caller_of(tenant), created["_id"], force=False, settings=settings
        )
    assert [d.event_type for d in await deliveries(made, tenant.account_id)] == ["list.deleted"]


async def test_a_job_end_rolled_back_tells_nothing(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    await add_hook(made, tenant.client_id, "https://h.example/")
    async with made() as session, session.begin():
        queued = await jobs.enqueue(
            session, caller_of(tenant), kind=FAILING_KIND, list_id=None, payload={}, total=None
        )
    async with made() as session, session.begin():
        claimed = await jobs_repository.claim_next(
            session, worker="w1", stale_after=timedelta(seconds=60)
        )
    assert claimed is not None
    assert claimed.id == queued.id
    async with made() as session:
        job = await jobs_repository.load(session, tenant.account_id, queued.id)
    assert job is not None

    async with made() as session:
        assert await jobs_repository.finish(session, job, worker="w1", state="completed")
        await session.rollback()
    assert await deliveries(made, tenant.account_id) == []

    # Another worker's finish ends nothing, and tells nothing.
    async with made() as session, session.begin():
        assert not await jobs_repository.finish(session, job, worker="w2", state="completed")
    assert await deliveries(made, tenant.account_id) == []

    async with made() as session, session.begin():
        assert await jobs_repository.finish(session, job, worker="w1", state="completed")
    recorded = await deliveries(made, tenant.account_id)
    assert [(d.event_type, d.data["jobId"]) for d in recorded] == [("job.completed", job.id)]
    async with made() as session:
        state = await session.scalar(select(Job.state).where(Job.id == job.id))
    assert state == "completed"
