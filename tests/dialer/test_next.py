"""dialer/next (CONTRACT §9): order, leases, states, calling windows and DNC scrubbing.

The clock is the test's (``app.state.clock``): nothing sleeps, time is moved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.dialer.support import NOW, Clock, dialing, hold_clock, numbers
from tests.support.campaigns import trigger
from tests.support.contacts import add_contacts, all_contacts, create_list
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio
Jobs = Callable[[], Awaitable[int]]


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return hold_clock(app)


async def test_next_leases_in_order_and_never_twice(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(5))
    first = await run.next(limit=2)
    assert [c["phoneNumber"] for c in first] == ["+12122000000", "+12122000001"]
    contact = first[0]
    assert contact["leaseId"].startswith("ls-")
    assert contact["contactId"].startswith("cc-")
    assert contact["attempt"] == 1
    assert contact["leaseExpiresAt"] == "2026-07-01T17:05:00.000Z"  # the default 300 s
    assert set(contact) == {
        "leaseId", "contactId", "contactListId", "phoneNumber", "firstName", "lastName",
        "timeZone", "uniqueId", "contactPriority", "fields", "attempt", "leaseExpiresAt",
    }  # fmt: skip
    # Leased contacts are not handed out again; fewer than the limit when fewer are eligible.
    assert await run.phones(limit=10) == ["+12122000002", "+12122000003", "+12122000004"]
    assert await run.next() == []


async def test_order_is_callbacks_then_priority_then_fifo_or_lifo(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    contacts = [
        {"phoneNumber": "+12122000000", "contactPriority": "2"},
        {"phoneNumber": "+12122000001"},
        {"phoneNumber": "+12122000002", "contactPriority": "1"},
        {"phoneNumber": "+12122000003", "contactPriority": "2"},
    ]
    fifo = await dialing(client, tenant, run_jobs, contacts, name="Fifo")
    assert await fifo.phones() == ["+12122000002", "+12122000000", "+12122000003", "+12122000001"]
    # LIFO: the newest first among equal priorities.
    lifo = await dialing(client, tenant, run_jobs, contacts, name="Lifo", dialingOrder="LIFO")
    assert await lifo.phones() == ["+12122000002", "+12122000003", "+12122000000", "+12122000001"]


@pytest.mark.parametrize("status", ["Ready", "Paused", "Stopped"])
async def test_only_active_campaigns_hand_out_contacts(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock, status: str
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(2), start=status != "Ready")
    if status == "Paused":
        assert (await trigger(client, tenant, run.campaign_id, "pause")).status_code == 200
    if status == "Stopped":
        assert (await trigger(client, tenant, run.campaign_id, "stop")).status_code == 200
    assert_failure(await run.next_response(), 409, "invalid_state")


async def test_next_refuses_bad_bodies_and_unknown_campaigns(
    client: AsyncClient, tenants: TenantFactory, run_jobs: Jobs, clock: Clock
) -> None:
    owner, stranger = await tenants.create(), await tenants.create()
    run = await dialing(client, owner, run_jobs, numbers(1))
    for body, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"leaseSeconds": 9}, "leaseSeconds"),
        ({"leaseSeconds": 3601}, "leaseSeconds"),
        ({"dialerId": ""}, "dialerId"),
        ({"dialerId": "d" * 129}, "dialerId"),
    ]:
        response = await run.next_response(**body)
        errors = assert_failure(response, 400, "validation_error")
        assert [entry["field"] for entry in errors] == [field], errors
    foreign = type(run)(client, stranger, run.campaign_id)
    assert_failure(await foreign.next_response(), 404, "not_found")
    # Nothing was leased by the refused calls.
    assert len(await run.next()) == 1


# ---------------------------------------------------------------- calling windows


async def test_local_window_opens_at_eight_in_the_contacts_zone(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    contacts = [
        {"phoneNumber": "+12122000000", "timeZone": "America/Los_Angeles"},
        {"phoneNumber": "+12122000001", "timeZone": "America/New_York"},
    ]
    run = await dialing(client, tenant, run_jobs, contacts)
    clock.now = datetime(2026, 7, 1, 14, 59, tzinfo=UTC)  # 07:59 in LA, 10:59 in New York
    assert await run.phones() == ["+12122000001"]
    clock.now = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 in LA
    assert await run.phones() == ["+12122000000"]


async def test_window_closes_at_nine_pm_local(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    contacts = [{"phoneNumber": "+12122000000", "timeZone": "America/New_York"}]
    run = await dialing(client, tenant, run_jobs, contacts)
    clock.now = datetime(2026, 7, 2, 1, 0, tzinfo=UTC)  # 21:00 in New York
    assert await run.next() == []
    clock.now = datetime(2026, 7, 2, 12, 0, tzinfo=UTC)  # 08:00 the next day
    assert await run.phones() == ["+12122000000"]


async def test_number_without_zone_waits_for_every_zone_it_can_be_in(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    # Area code 208 (Idaho) is in the Mountain and the Pacific zones.
    run = await dialing(client, tenant, run_jobs, [{"phoneNumber": "+12085550123"}])
    clock.now = datetime(2026, 7, 1, 14, 30, tzinfo=UTC)  # 08:30 in Boise, 07:30 in LA
    assert await run.next() == []
    clock.now = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)  # 09:00 in Boise, 08:00 in LA
    assert await run.phones() == ["+12085550123"]


@pytest.mark.parametrize(
    ("closed", "opened"),
    [
        # Spring forward (8 March 2026): 08:00 in New York is 12:00 UTC, not 13:00.
        (datetime(2026, 3, 8, 11, 59, tzinfo=UTC), datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        # Fall back (1 November 2026): 08:00 is 13:00 UTC again.
        (datetime(2026, 11, 1, 12, 59, tzinfo=UTC), datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
    ],
)
async def test_clock_change_days(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: Jobs,
    clock: Clock,
    closed: datetime,
    opened: datetime,
) -> None:
    contacts = [{"phoneNumber": "+12122000000", "timeZone": "America/New_York"}]
    run = await dialing(client, tenant, run_jobs, contacts)
    clock.now = closed
    assert await run.next() == []
    clock.now = opened
    assert await run.phones() == ["+12122000000"]


async def test_campaign_calling_hours_days_and_times(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    hours = {
        "frequency": "WEEKLY",
        "timezone": "America/Chicago",
        "days": [{"day": "WE", "start": "1:00 PM", "end": "2:00 PM"}],
    }
    run = await dialing(client, tenant, run_jobs, numbers(3), calling_hours=hours)
    wednesday = datetime(2026, 7, 1, tzinfo=UTC)
    clock.now = wednesday + timedelta(hours=17, minutes=59)  # 12:59 in Chicago
    assert await run.next() == []
    clock.now = wednesday + timedelta(hours=19)  # 14:00 in Chicago: closed again
    assert await run.next() == []
    clock.now = wednesday + timedelta(days=1, hours=18, minutes=30)  # Thursday 13:30
    assert await run.next() == []
    clock.now = wednesday + timedelta(hours=18)  # Wednesday 13:00
    assert len(await run.next()) == 3


# ---------------------------------------------------------------- DNC scrubbing


async def test_dnc_numbers_are_never_handed_out(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    await create_list(client, tenant, "Complaints", listType="dnc")
    await add_contacts(
        client,
        tenant,
        "Complaints",
        [
            {"phoneNumber": "(212) 200-0000"},  # any format
            {"phoneNumber": "+12122000001", "expiresAt": (NOW - timedelta(days=1)).isoformat()},
            {"phoneNumber": "+12122000002", "expiresAt": (NOW + timedelta(hours=2)).isoformat()},
        ],
    )
    await add_contacts(client, tenant, "Default Global DNC", [{"phoneNumber": "212 200 0003"}])
    await run_jobs()
    run = await dialing(client, tenant, run_jobs, numbers(5), dnc="Complaints")
    # 0 is on the campaign's list, 3 on the bot's global one; 1's entry has expired.
    leased = await run.next()
    assert [c["phoneNumber"] for c in leased] == ["+12122000001", "+12122000004"]
    await run.report(leased, "completed")
    # A number added to a DNC list while the campaign runs is not handed out from then on.
    await add_contacts(client, tenant, "Default Global DNC", [{"phoneNumber": "+12122000005"}])
    await add_contacts(client, tenant, "Renewals", numbers(2, start=5))
    await run_jobs()
    leased = await run.next()
    assert [c["phoneNumber"] for c in leased] == ["+12122000006"]
    await run.report(leased, "completed")
    # 2's entry ends: from then on it is handed out.
    clock.now = NOW + timedelta(hours=2)
    assert await run.phones() == ["+12122000002"]


async def test_a_number_or_zone_changed_after_admission_is_what_is_checked(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(3))
    assert (await run.summary())["eligibleNow"] == 3  # every contact has its record now
    await add_contacts(client, tenant, "Default Global DNC", [{"phoneNumber": "+12125550199"}])
    await run_jobs()
    paths = Paths("v2", tenant.bot)
    lists = await client.get(paths.get_all, params={"search": "Renewals"}, headers=tenant.headers())
    (renewals,) = [item for item in lists.json()["data"] if item["name"] == "Renewals"]
    contacts = {
        c["phoneNumber"]: c["_id"] for c in await all_contacts(client, tenant, renewals["_id"])
    }
    edits = [
        ("+12122000000", {"phoneNumber": "(212) 555-0199"}),  # now a number on the global DNC
        ("+12122000001", {"timeZone": "Asia/Tokyo"}),  # 02:00 there: outside its window
    ]
    for phone, change in edits:
        url = f"{paths.list(renewals['_id'])}/contacts/{contacts[phone]}"
        response = await client.put(url, json=change, headers=tenant.headers())
        assert response.status_code == 200, response.text
    assert await run.phones() == ["+12122000002"]
    summary = await run.summary()
    assert (summary["dnc"], summary["outsideWindow"], summary["leased"]) == (1, 1, 1)
