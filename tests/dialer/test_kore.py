"""Kore.ai's dialing routes (CONTRACT §9): status?view=contacts, callContactAt, schedule.

Bodies as in Kore.ai's documented samples; answers in its documented shapes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.dialer.support import Clock, dialing, hold_clock, numbers
from tests.support.campaigns import get_campaign
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio
Jobs = Callable[[], Awaitable[int]]
CONTACT_KEYS = [
    "phoneNumber", "uniqueId", "dialerOutcome", "numberOfAttemptsSoFar", "botSessionId",
    "agentDispositionCodes", "botOutboundStatus", "botOutboundStatusDetail",
]  # fmt: skip


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return hold_clock(app)


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_status_view_contacts_in_kores_shape(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock, family: str
) -> None:
    contacts = [{**item, "uniqueId": f"u{n}"} for n, item in enumerate(numbers(3))]
    run = await dialing(client, tenant, run_jobs, contacts, maxAttemptsPerRecord=3)
    leased = await run.next(limit=2)
    await run.outcome(
        {
            "leaseId": leased[0]["leaseId"],
            "outcome": "completed",
            "dispositionCodes": ["Sale"],
            "botSessionId": "bs-1",
            "detail": "agentHangUp",
        }
    )
    url = f"{Paths(family, tenant.bot).prefix}/{run.campaign_id}/status"
    response = await client.post(
        url, params={"view": "contacts"}, json={"page": 1, "limit": 2}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["status", "data"]
    data = body["data"]
    assert list(data) == ["results", "page", "limit", "totalPages", "totalResults"]
    assert (data["page"], data["limit"], data["totalPages"], data["totalResults"]) == (1, 2, 2, 3)
    assert [list(item) for item in data["results"]] == [CONTACT_KEYS, CONTACT_KEYS]
    assert data["results"][0] == {
        "phoneNumber": "+12122000000",
        "uniqueId": "u0",
        "dialerOutcome": "completed",
        "numberOfAttemptsSoFar": 1,
        "botSessionId": "bs-1",
        "agentDispositionCodes": ["Sale"],
        "botOutboundStatus": "completed",
        "botOutboundStatusDetail": "agentHangUp",
    }
    assert data["results"][1]["dialerOutcome"] == "in-progress"
    page2 = await client.post(
        url, params={"view": "contacts"}, json={"page": 2, "limit": 2}, headers=tenant.headers()
    )
    assert [item["dialerOutcome"] for item in page2.json()["data"]["results"]] == [""]
    # view=status is as it was; bad pages are refused.
    status = await client.post(url, params={"view": "status"}, headers=tenant.headers())
    assert status.json() == {
        "status": "success",
        "data": {"id": run.campaign_id, "status": "Active", "name": "Renewals calls"},
    }
    for bad in ({"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "1"}):
        response = await client.post(
            url, params={"view": "contacts"}, json=bad, headers=tenant.headers()
        )
        assert_failure(response, 400, "validation_error")


async def test_call_contact_at_schedules_callbacks(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(3))
    leased = await run.next(limit=2)
    await run.report(leased[:1], "no_answer")
    first, second = leased[0]["contactId"], leased[1]["contactId"]
    url = f"/campaign/api/v2/public/{tenant.bot}/campaign/{run.campaign_id}/callContactAt"
    at = "2026-07-01T18:30:00.000Z"
    response = await client.post(
        url,
        json=[
            {"campaignDialingListId": first, "timeToContact": at},
            {"campaignDialingListId": second, "timeToContact": at},  # leased now
            {"campaignDialingListId": first, "timeToContact": "2026-07-01T16:00:00Z"},
            {"campaignDialingListId": "cc-unknown", "timeToContact": at},
        ],
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "success",
        "data": [
            {"campaignDialingListId": first, "status": "success"},
            {"campaignDialingListId": second, "status": "failed", "reason": "in_progress"},
            {"campaignDialingListId": first, "status": "failed", "reason": "time_in_past"},
            {"campaignDialingListId": "cc-unknown", "status": "failed", "reason": "not_found"},
        ],
    }
    # The callback is due at its time, and first.
    await run.report(leased[1:], "completed")
    clock.now = datetime(2026, 7, 1, 18, 29, tzinfo=UTC)
    assert await run.phones() == ["+12122000002"]
    clock.now = datetime(2026, 7, 1, 18, 30, tzinfo=UTC)
    assert await run.phones() == ["+12122000000"]
    for bad in ({}, [], [{"campaignDialingListId": first}], [{"timeToContact": at}]):
        response = await client.post(url, json=bad, headers=tenant.headers())
        assert_failure(response, 400, "validation_error")


async def test_schedule_enable_and_disable(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(1), start=False)
    url = f"/campaign/api/v2/public/{tenant.bot}/campaign/schedule"
    body = {
        "startDateTime": "2026-07-02 09:00:00",
        "endDateTime": "2026-07-30 18:00:00",
        "recurrenceObject": {
            "recurType": "Weekly",
            "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Mon", "Wed"]},
        },
    }
    response = await client.post(
        url,
        params={"enableSchedule": "true", "campaignName": "renewals CALLS"},
        json=body,
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "success",
        "message": "Campaign Renewals calls scheduled successfully",
        "id": run.campaign_id,
    }
    schedule = (await get_campaign(client, tenant, run.campaign_id))["schedule"]
    assert (schedule["isSchedulingEnabled"], schedule["isRecurrenceEnabled"]) == (True, True)
    response = await client.post(
        url,
        params={"enableSchedule": "false", "campaignName": "Renewals calls"},
        json={},
        headers=tenant.headers(),
    )
    assert response.json() == {
        "status": "success",
        "message": "Campaign Renewals calls schedule has been disabled successfully",
        "id": run.campaign_id,
    }
    schedule = (await get_campaign(client, tenant, run.campaign_id))["schedule"]
    assert schedule == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
    # Errors: an end before the start or in the past, a missing recurrence detail, a bad
    # flag, an unknown campaign.
    for params, payload, status in [
        ({"enableSchedule": "true"}, {**body, "endDateTime": "2026-07-01 08:00:00"}, 400),
        ({"enableSchedule": "true"}, {**body, "startDateTime": "2026-07-31 08:00:00"}, 400),
        ({"enableSchedule": "true"}, {**body, "recurrenceObject": {"recurType": "Daily"}}, 400),
        ({"enableSchedule": "true"}, {**body, "startDateTime": "2 July"}, 400),
        ({"enableSchedule": "maybe"}, body, 400),
    ]:
        response = await client.post(
            url, params={**params, "campaignName": "Renewals calls"}, json=payload,
            headers=tenant.headers(),
        )  # fmt: skip
        assert_failure(response, status, "validation_error")
    response = await client.post(
        url,
        params={"enableSchedule": "false", "campaignName": "Nope"},
        json={},
        headers=tenant.headers(),
    )
    assert_failure(response, 404, "not_found")
