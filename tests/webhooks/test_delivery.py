"""Delivery: retried with growing pauses from the table, given up when spent, never twice.

Pauses are made short through the settings (``webhook_retry_seconds``), so nothing here
sleeps long. The restart test stops a pool after a failed try and starts another app on the
same database: the delivery is neither lost nor sent twice.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.models.base import utcnow
from contactlists.models.webhooks import (
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    WebhookDelivery,
)
from contactlists.webhooks import repository
from contactlists.webhooks import service as webhooks
from contactlists.webhooks.delivery import deliver_some, lease_seconds, retry_delay
from contactlists.webhooks.repository import Claimed
from tests.support.contacts import create_list
from tests.support.durable import OwnDatabase, Sessions, sessions, wait_until
from tests.support.list_wire import delete_list
from tests.support.tenants import Tenant
from tests.webhooks.hooks import add_hook, attempts, deliveries, signed_event
from tests.webhooks.receiver import receiver

pytestmark = [pytest.mark.anyio, pytest.mark.serial]


def quick(own: OwnDatabase, **values: object) -> Settings:
    """The app's settings with pauses short enough for a test."""
    updates: dict[str, object] = {
        "webhook_retry_seconds": 0.02,
        "webhook_retry_max_seconds": 0.2,
        "webhook_timeout_seconds": 2,
    }
    updates.update(values)
    settings: Settings = own.app.state.settings.model_copy(update=updates)
    return settings


async def one_event(own: OwnDatabase, tenant: Tenant) -> None:
    """A list deleted: one list.deleted event for the tenant's hooks."""
    created = await create_list(own.client, tenant, "Deleted once")
    assert (await delete_list(own.client, tenant, created["_id"])).status_code == 200


async def deliver_until(made: Sessions, settings: Settings, done: Callable[[], bool]) -> None:
    async def check() -> bool:
        await deliver_some(made, settings)
        return done()

    await wait_until(check, "the deliveries", timeout=20)


def test_the_pause_doubles_up_to_its_longest() -> None:
    settings = Settings(webhook_retry_seconds=10, webhook_retry_max_seconds=100)
    assert [retry_delay(settings, n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]
    assert retry_delay(settings, 10_000) == 100
    assert lease_seconds(settings) > settings.webhook_timeout_seconds


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_try(
    own: OwnDatabase,
) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    settings = quick(own)
    with receiver([500, 500, 503]) as hook_server:
        added = await add_hook(made, tenant.client_id, hook_server.url)
        await one_event(own, tenant)
        await deliver_until(made, settings, lambda: len(hook_server.snapshot()) >= 4)
        for _ in range(3):
            await deliver_some(made, settings)
        received = hook_server.snapshot()

    assert [item.answered for item in received] == [500, 500, 503, 200]
    events = [signed_event(item, tenant.client_secret) for item in received]
    # The same event, the same body, on every try; each try signed afresh.
    assert len({event["id"] for event in events}) == 1
    assert len({item.body for item in received}) == 1
    [delivery] = await deliveries(made, tenant.account_id)
    assert (delivery.state, delivery.attempts, delivery.locked_by) == (DELIVERY_DELIVERED, 4, None)
    tries = await attempts(made, tenant.account_id)
    assert [(t.attempt, t.status_code, t.error) for t in tries] == [
        (1, 500, None),
        (2, 500, None),
        (3, 503, None),
        (4, 200, None),
    ]
    # What `webhook ls` shows: the last tries, the newest first, and the delivery's state.
    async with made() as session:
        [view] = await webhooks.of_app(session, tenant.client_id)
    assert view.hook.id == added.hook.id
    assert view.counts == {DELIVERY_DELIVERED: 1}
    assert [(s.attempt, s.status_code, s.state) for s in view.last_attempts] == [
        (4, 200, DELIVERY_DELIVERED),
        (3, 503, DELIVERY_DELIVERED),
        (2, 500, DELIVERY_DELIVERED),
        (1, 500, DELIVERY_DELIVERED),
    ]


async def test_a_failed_try_waits_its_pause_before_the_next(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    settings = quick(own, webhook_retry_seconds=3600, webhook_retry_max_seconds=3600)
    with receiver([500]) as hook_server:
        await add_hook(made, tenant.client_id, hook_server.url)
        await one_event(own, tenant)
        before = utcnow()
        assert await deliver_some(made, settings) == 1
        # Not due again for an hour: the next rounds send nothing.
        assert await deliver_some(made, settings) == 0
        assert len(hook_server.snapshot()) == 1
    [delivery] = await deliveries(made, tenant.account_id)
    assert delivery.state == DELIVERY_PENDING
    assert delivery.due_at >= before + timedelta(seconds=3600)


async def test_a_delivery_is_given_up_after_its_attempts_and_recorded(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    settings = quick(own, webhook_max_attempts=3)
    with receiver([500] * 10) as hook_server:
        await add_hook(made, tenant.client_id, hook_server.url)
        await one_event(own, tenant)

        async def given_up() -> bool:
            await deliver_some(made, settings)
            return (await deliveries(made, tenant.account_id))[0].state == DELIVERY_FAILED

        await wait_until(given_up, "the delivery to be given up", timeout=20)
        for _ in range(3):
            assert await deliver_some(made, settings) == 0
        assert len(hook_server.snapshot()) == 3
    [delivery] = await deliveries(made, tenant.account_id)
    assert delivery.attempts == 3
    assert delivery.finished_at is not None
    assert [t.status_code for t in await attempts(made, tenant.account_id)] == [500, 500, 500]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


async def test_no_answer_and_no_server_are_recorded_as_errors(
    own: OwnDatabase, silent_port: int
) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    settings = quick(own, webhook_timeout_seconds=0.3, webhook_retry_seconds=3600)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    await add_hook(made, tenant.client_id, f"http://127.0.0.1:{silent_port}/hook")
    await add_hook(made, tenant.client_id, f"http://127.0.0.1:{refused_port}/hook")
    await one_event(own, tenant)

    started = asyncio.get_running_loop().time()
    assert await deliver_some(made, settings) == 2
    assert asyncio.get_running_loop().time() - started < 5  # bounded by the timeout

    errors = sorted(t.error or "" for t in await attempts(made, tenant.account_id))
    assert len(errors) == 2
    assert errors[0].startswith("ConnectError")
    assert errors[1] == "no answer within 0.3 s"
    assert all(t.status_code is None for t in await attempts(made, tenant.account_id))
    assert {d.state for d in await deliveries(made, tenant.account_id)} == {DELIVERY_PENDING}


async def test_two_workers_never_hold_one_delivery_at_once(own: OwnDatabase) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    await add_hook(made, tenant.client_id, "https://h.example/")
    for _ in range(3):
        await one_event(own, tenant)
    lease_until = utcnow() + timedelta(seconds=60)

    async def claim(worker: str) -> dict[str, Claimed]:
        async with made() as session, session.begin():
            taken = await repository.claim(session, worker=worker, lease_until=lease_until, limit=2)
        return {item.id: item for item in taken}

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert len(first) + len(second) == 3
    assert not first.keys() & second.keys()
    assert await claim("c") == {}  # all held until their leases end

    # A lease that ran out (its worker died mid-try) makes the delivery due again; the
    # worker that lost it cannot record its try any more.
    lost_id, lost = next(iter(first.items()))
    async with made() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.account_id == tenant.account_id)
            .where(WebhookDelivery.id == lost_id)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    taken_over = await claim("d")
    assert list(taken_over) == [lost_id]
    assert taken_over[lost_id].attempts == 2
    async with made() as session, session.begin():
        assert not await repository.settle(
            session, lost, worker="a", values={"state": DELIVERY_DELIVERED}
        )
        assert await repository.settle(
            session, taken_over[lost_id], worker="d", values={"state": DELIVERY_DELIVERED}
        )


async def test_a_restart_after_a_failed_try_loses_nothing_and_sends_once(
    own: OwnDatabase,
) -> None:
    tenant = await own.tenants.create()
    made = sessions(own.app)
    # The pause outlasts stopping the first app, so its pool cannot make the second try.
    running = quick(own, workers=1, webhook_poll_seconds=0.05, webhook_retry_seconds=1)
    with receiver([500]) as hook_server:
        await add_hook(made, tenant.client_id, hook_server.url)
        await one_event(own, tenant)

        async def tried(times: int) -> bool:
            return len(await attempts(made, tenant.account_id)) >= times

        first = create_app(running)
        async with first.router.lifespan_context(first):
            await wait_until(lambda: tried(1), "the first try")
        # Stopped after the failed try: what is left is only in the table.
        assert [r.answered for r in hook_server.snapshot()] == [500]
        [waiting] = await deliveries(made, tenant.account_id)
        assert (waiting.state, waiting.attempts, waiting.locked_by) == (DELIVERY_PENDING, 1, None)

        second = create_app(running)
        async with second.router.lifespan_context(second):
            await wait_until(lambda: tried(2), "the second try")
            # More rounds of the running pool: an acknowledged delivery is not sent again.
            await asyncio.sleep(10 * running.webhook_poll_seconds)
        received = hook_server.snapshot()

    assert [r.answered for r in received] == [500, 200]
    events = [signed_event(item, tenant.client_secret) for item in received]
    assert events[0] == events[1]
    [delivery] = await deliveries(made, tenant.account_id)
    assert (delivery.state, delivery.attempts) == (DELIVERY_DELIVERED, 2)
