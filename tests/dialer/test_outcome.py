"""dialer/outcome and the life of a record (CONTRACT §9): retries, attempts, callbacks,
do-not-call, opt-out, repeated and late reports, leases that run out, deleted lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from contactlists.models.dialing import DialingRecord
from tests.dialer.support import ALL_WEEK, Clock, dialing, hold_clock, numbers
from tests.dnc.test_dnc import check
from tests.support.campaigns import voice_body
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio
Jobs = Callable[[], Awaitable[int]]


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return hold_clock(app)


async def test_retry_after_the_retry_period_until_attempts_run_out(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(
        client, tenant, run_jobs, numbers(1), maxAttemptsPerRecord=2, defaultRetryPeriod=30
    )
    first = await run.next()
    assert [c["attempt"] for c in first] == [1]
    await run.report(first, "no_answer")
    clock.advance(minutes=29, seconds=59)
    assert await run.next() == []
    clock.advance(seconds=1)
    second = await run.next()
    assert [c["attempt"] for c in second] == [2]
    await run.report(second, "busy")
    clock.advance(days=1)
    assert await run.next() == []  # two attempts were all it had
    summary = await run.summary()
    assert (summary["exhausted"], summary["total"]) == (1, 1)


async def test_answered_and_completed_end_the_contact(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(2))
    leased = await run.next()
    await run.report(leased[:1], "answered")
    await run.report(leased[1:], "completed")
    clock.advance(days=1)
    assert await run.next() == []
    assert (await run.summary())["done"] == 2


async def test_callback_comes_at_its_time_first_and_inside_the_window(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    contacts = [
        {"phoneNumber": f"+1212200000{n}", "timeZone": "America/New_York"} for n in range(3)
    ]
    run = await dialing(client, tenant, run_jobs, contacts, defaultRetryPeriod=60)
    leased = await run.next()
    await run.report(leased[:2], "no_answer")
    await run.report(leased[2:], "callback", callbackAt="2026-07-01T18:00:00Z")
    clock.now = datetime(2026, 7, 1, 17, 59, tzinfo=UTC)
    assert await run.next() == []
    clock.now = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    # The callback comes first, before contacts ahead of it in the list.
    again = await run.next()
    assert [(c["phoneNumber"], c["attempt"]) for c in again] == [
        ("+12122000002", 2),
        ("+12122000000", 2),
        ("+12122000001", 2),
    ]
    # Asked to call back at 22:30 in New York: outside the local window, so at 08:00 next day.
    await run.report(again[:1], "callback", callbackAt="2026-07-02T02:30:00Z")
    clock.now = datetime(2026, 7, 2, 2, 30, tzinfo=UTC)
    assert await run.next() == []
    clock.now = datetime(2026, 7, 2, 12, 0, tzinfo=UTC)
    assert [c["phoneNumber"] for c in await run.next()][:1] == ["+12122000002"]


async def test_callback_needs_its_time(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(1))
    leased = await run.next()
    response = await client.post(
        f"{run.prefix}/dialer/outcome",
        json={"results": [{"leaseId": leased[0]["leaseId"], "outcome": "callback"}]},
        headers=tenant.headers(),
    )
    errors = assert_failure(response, 400, "validation_error")
    assert [entry["field"] for entry in errors] == ["results.0.callbackAt"]
    for body in ({"results": []}, {"results": [{"leaseId": "ls-x", "outcome": "hung_up"}]},
                 {"results": [{"outcome": "busy"}]}):  # fmt: skip
        response = await client.post(
            f"{run.prefix}/dialer/outcome", json=body, headers=tenant.headers()
        )
        assert_failure(response, 400, "validation_error")


async def test_do_not_call_stops_the_number_in_every_campaign_of_the_bot(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    first = await dialing(client, tenant, run_jobs, numbers(2), name="East")
    second = await dialing(client, tenant, run_jobs, numbers(2), name="West")
    leased = await first.next(limit=1)
    await first.report(leased, "do_not_call")
    result = (await check(client, tenant, ["+12122000000"]))[0]
    assert (result["dnc"], result["lists"]) == (True, ["Default Global DNC"])
    assert await second.phones() == ["+12122000001"]


async def test_opted_out_is_never_called_again(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(1))
    await run.report(await run.next(), "opted_out")
    clock.advance(days=3)
    assert await run.next() == []
    assert (await run.summary())["optedOut"] == 1


async def test_a_repeated_outcome_counts_once(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(
        client, tenant, run_jobs, numbers(1), maxAttemptsPerRecord=3, defaultRetryPeriod=1
    )
    leased = await run.next()
    item = {"leaseId": leased[0]["leaseId"], "outcome": "no_answer"}
    assert await run.outcome(item, item) == [
        {"leaseId": item["leaseId"], "accepted": True},
        {"leaseId": item["leaseId"], "accepted": True},
    ]
    assert await run.outcome(item) == [{"leaseId": item["leaseId"], "accepted": True}]
    clock.advance(minutes=1)
    assert [c["attempt"] for c in await run.next()] == [2]
    # Another outcome on the lease already reported is refused.
    refused = await run.outcome({**item, "outcome": "completed"})
    assert refused == [{"leaseId": item["leaseId"], "accepted": False, "reason": "lease_expired"}]


async def test_late_outcome_on_an_expired_lease_is_refused(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(1))
    leased = await run.next(leaseSeconds=60)
    clock.advance(seconds=60)
    late = {"leaseId": leased[0]["leaseId"], "outcome": "completed"}
    assert await run.outcome(late) == [
        {"leaseId": late["leaseId"], "accepted": False, "reason": "lease_expired"}
    ]
    # The contact came back without an attempt counted, and also after it is handed out again.
    again = await run.next()
    assert [c["attempt"] for c in again] == [1]
    assert (await run.outcome(late))[0]["reason"] == "lease_expired"
    unknown = {"leaseId": "ls-00000000-0000-4000-8000-000000000000", "outcome": "busy"}
    refused = (await run.outcome(unknown))[0]
    assert (refused["accepted"], refused["reason"]) == (False, "unknown_lease")


async def test_deleting_a_list_ends_its_leases_and_restore_brings_the_records_back(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(2), maxAttemptsPerRecord=5)
    leased = await run.next()
    await run.report(leased[:1], "no_answer")
    list_id = leased[0]["contactListId"]
    paths = Paths("v2", tenant.bot)
    response = await client.delete(
        paths.list(list_id), params={"force": "true"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert (await run.outcome({"leaseId": leased[1]["leaseId"], "outcome": "busy"}))[0][
        "reason"
    ] == "unknown_lease"
    assert await run.next() == []
    assert (await run.summary())["total"] == 0
    # Restored and attached again: the contacts come back with what happened to them.
    response = await client.post(f"{paths.list(list_id)}/restore", headers=tenant.headers())
    assert response.status_code == 200, response.text
    body = voice_body("Renewals calls", ["Renewals"])
    body["dialingStrategy"].update(maxAttemptsPerRecord=5, callingHours=ALL_WEEK)
    response = await client.put(
        f"{paths.prefix}/{run.campaign_id}",
        params={"campaignType": "voice"},
        json=body,
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    clock.advance(days=1)
    again = await run.next()
    assert sorted((c["phoneNumber"], c["attempt"]) for c in again) == [
        ("+12122000000", 2),
        ("+12122000001", 1),
    ]


async def records_of(app: FastAPI, account_id: str, list_id: str) -> list[str]:
    """The numbers the dialing records of a list hold."""
    async with app.state.sessionmaker() as session:
        query = select(DialingRecord.phone).where(
            DialingRecord.account_id == account_id, DialingRecord.list_id == list_id
        )
        return sorted(await session.scalars(query))


async def test_a_deleted_contact_and_a_purged_list_leave_no_dialing_record(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(3), maxAttemptsPerRecord=5)
    leased = await run.next()
    list_id = leased[0]["contactListId"]
    assert await records_of(app, tenant.account_id, list_id) == sorted(
        contact["phoneNumber"] for contact in leased
    )
    paths = Paths("v2", tenant.bot)

    # One contact deleted: its record, which holds its number, goes with it.
    gone = leased[0]
    response = await client.delete(
        f"{paths.list(list_id)}/contacts/{gone['contactId']}", headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert gone["phoneNumber"] not in await records_of(app, tenant.account_id, list_id)
    assert len(await records_of(app, tenant.account_id, list_id)) == 2

    # The list deleted and purged: none of its records is left.
    app.state.settings = app.state.settings.model_copy(update={"trash_days": 0})
    response = await client.delete(
        paths.list(list_id), params={"force": "true"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert await run_jobs() >= 1
    assert await records_of(app, tenant.account_id, list_id) == []
