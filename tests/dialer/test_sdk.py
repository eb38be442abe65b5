"""``client.dialer`` and ``client.dnc`` of the SDK, against the service in process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport
from httpx import AsyncClient as HttpClient

from contactlists.client import AsyncClient, DialerSummary, InvalidStateError, OutcomeItem
from tests.dialer.support import Clock, dialing, hold_clock, numbers
from tests.support.contacts import add_contacts, create_list
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio
Jobs = Callable[[], Awaitable[int]]


@pytest.fixture
async def sdk(app: FastAPI, tenant: Tenant) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        "http://contactlists.test",
        bot=tenant.bot,
        client_id=tenant.client_id,
        client_secret=tenant.client_secret,
        transport=ASGITransport(app=app),
    ) as client:
        yield client


async def test_dialer_next_outcome_and_summary(
    app: FastAPI, client: HttpClient, tenant: Tenant, run_jobs: Jobs, sdk: AsyncClient
) -> None:
    clock: Clock = hold_clock(app)
    run = await dialing(client, tenant, run_jobs, numbers(3), defaultRetryPeriod=5)
    leased = await sdk.dialer.next(run.campaign_id, limit=2, dialer_id="d1", lease_seconds=60)
    assert [c.phoneNumber for c in leased] == ["+12122000000", "+12122000001"]
    results = await sdk.dialer.outcome(
        run.campaign_id,
        [
            OutcomeItem(leaseId=leased[0].leaseId, outcome="busy"),
            {"leaseId": leased[1].leaseId, "outcome": "completed"},
        ],
    )
    assert [(r.accepted, r.reason) for r in results] == [(True, None), (True, None)]
    summary = await sdk.dialer.summary(run.campaign_id)
    assert isinstance(summary, DialerSummary)
    assert (summary.total, summary.waitingRetry, summary.done, summary.eligibleNow) == (3, 1, 1, 1)
    clock.advance(minutes=5)
    assert [c.attempt for c in await sdk.dialer.next(run.campaign_id, limit=5, dialer_id="d1")] == [
        2,
        1,
    ]


async def test_dialer_next_on_a_campaign_that_is_not_active(
    app: FastAPI, client: HttpClient, tenant: Tenant, run_jobs: Jobs, sdk: AsyncClient
) -> None:
    hold_clock(app)
    run = await dialing(client, tenant, run_jobs, numbers(1), start=False)
    with pytest.raises(InvalidStateError):
        await sdk.dialer.next(run.campaign_id, limit=1, dialer_id="d1")


async def test_dnc_check(
    app: FastAPI, client: HttpClient, tenant: Tenant, run_jobs: Jobs, sdk: AsyncClient
) -> None:
    hold_clock(app)
    await create_list(client, tenant, "Complaints", listType="dnc")
    await add_contacts(client, tenant, "Complaints", [{"phoneNumber": "+12122000000"}])
    await run_jobs()
    results = await sdk.dnc.check(["(212) 200-0000", "+12122000001", "nope"])
    assert [(r.e164, r.dnc, r.lists) for r in results] == [
        ("+12122000000", True, ["Complaints"]),
        ("+12122000001", False, []),
        (None, False, []),
    ]
