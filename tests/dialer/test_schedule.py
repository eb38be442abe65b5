"""A campaign's enabled schedule narrows when the dialer hands out its contacts.

The rules (one period; daily every N days; weekly every N weeks on some days; a period past
midnight) checked on the pure ``Schedule``, then through the routes with the clock held.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.dialer.schedule import Schedule
from tests.dialer.support import Clock, dialing, hold_clock, numbers
from tests.support.tenants import Tenant

NEW_YORK = ZoneInfo("America/New_York")
Jobs = Callable[[], Awaitable[int]]


def _at(text: str) -> datetime:
    """A New York wall-clock time, as the instant the dialer is asked at."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def _schedule(start: str, end: str, recurrence: dict[str, Any] | None = None) -> Schedule:
    stored: dict[str, Any] = {
        "isSchedulingEnabled": True,
        "startDateTime": start,
        "endDateTime": end,
    }
    if recurrence is not None:
        stored["recurrenceObject"] = recurrence
    found = Schedule.of(stored, NEW_YORK)
    assert found is not None
    return found


def test_disabled_or_absent_schedule_sets_no_limit() -> None:
    assert Schedule.of({}, NEW_YORK) is None
    assert (
        Schedule.of({"isSchedulingEnabled": False, "isRecurrenceEnabled": False}, NEW_YORK) is None
    )


def test_one_period_from_start_to_end() -> None:
    schedule = _schedule("2026-07-02 09:00:00", "2026-07-04 18:00:00")
    assert not schedule.open(_at("2026-07-02 08:59:59"))
    assert schedule.open(_at("2026-07-02 09:00:00"))
    assert schedule.open(_at("2026-07-03 03:00:00"))  # no recurrence: the whole span
    assert schedule.open(_at("2026-07-04 17:59:59"))
    assert not schedule.open(_at("2026-07-04 18:00:00"))


def test_daily_every_two_days_between_the_times_of_day() -> None:
    every_other_day = {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 2}}
    schedule = _schedule("2026-07-01 09:00:00", "2026-07-10 17:00:00", every_other_day)
    assert schedule.open(_at("2026-07-01 09:00:00"))
    assert not schedule.open(_at("2026-07-01 17:00:00"))
    assert not schedule.open(_at("2026-07-02 12:00:00"))  # not a day of the recurrence
    assert schedule.open(_at("2026-07-03 12:00:00"))
    assert not schedule.open(_at("2026-07-03 08:59:00"))
    assert schedule.open(_at("2026-07-09 16:59:00"))
    assert not schedule.open(_at("2026-07-11 12:00:00"))  # after the end


def test_weekly_on_chosen_days_every_other_week() -> None:
    weekly = {
        "recurType": "Weekly",
        "weeklyDetails": {"onceEveryNweeks": 2, "whichDays": ["Mon", "Wed"]},
    }
    # 2026-07-01 is a Wednesday; its week began Monday 2026-06-29.
    schedule = _schedule("2026-07-01 09:00:00", "2026-07-31 17:00:00", weekly)
    assert schedule.open(_at("2026-07-01 10:00:00"))  # Wednesday, week 0
    assert not schedule.open(_at("2026-07-02 10:00:00"))  # Thursday
    assert not schedule.open(_at("2026-07-06 10:00:00"))  # Monday, week 1
    assert not schedule.open(_at("2026-07-08 10:00:00"))  # Wednesday, week 1
    assert schedule.open(_at("2026-07-13 10:00:00"))  # Monday, week 2
    assert schedule.open(_at("2026-07-15 16:59:00"))  # Wednesday, week 2


def test_a_period_past_midnight_belongs_to_the_day_it_began() -> None:
    nightly = {"recurType": "Weekly", "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Fri"]}}
    schedule = _schedule("2026-07-03 22:00:00", "2026-07-31 02:00:00", nightly)
    assert schedule.open(_at("2026-07-03 23:30:00"))  # Friday night
    assert schedule.open(_at("2026-07-04 01:59:00"))  # still Friday's period, on Saturday
    assert not schedule.open(_at("2026-07-04 02:00:00"))
    assert not schedule.open(_at("2026-07-04 23:00:00"))  # Saturday night is not a day of it


def test_wall_clock_holds_across_the_dst_change() -> None:
    daily = {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1}}
    # New York moves its clocks on 2026-11-01: 09:00 local is 13:00 UTC before, 14:00 after.
    schedule = _schedule("2026-10-30 09:00:00", "2026-11-05 17:00:00", daily)
    assert schedule.open(datetime(2026, 10, 31, 13, 0, tzinfo=UTC))
    assert not schedule.open(datetime(2026, 11, 2, 13, 30, tzinfo=UTC))  # 08:30 local
    assert schedule.open(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return hold_clock(app)


@pytest.mark.anyio
async def test_the_dialer_hands_out_only_inside_an_enabled_schedule(
    client: AsyncClient, tenant: Tenant, run_jobs: Jobs, clock: Clock
) -> None:
    run = await dialing(client, tenant, run_jobs, numbers(2))
    url = f"/campaign/api/v2/public/{tenant.bot}/campaign/schedule"
    # The held clock reads Wednesday 2026-07-01 13:00 in New York; the schedule starts Thursday.
    body = {
        "startDateTime": "2026-07-02 09:00:00",
        "endDateTime": "2026-07-30 18:00:00",
        "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 1}},
    }
    params = {"enableSchedule": "true", "campaignName": "Renewals calls"}
    response = await client.post(url, params=params, json=body, headers=tenant.headers())
    assert response.status_code == 200, response.text

    assert await run.next() == []
    summary = await run.summary()
    assert (summary["outsideWindow"], summary["eligibleNow"]) == (2, 0)

    clock.now = _at("2026-07-02 08:59:00")
    assert await run.next() == []
    clock.now = _at("2026-07-02 09:00:00")
    assert len(await run.phones(limit=1)) == 1
    clock.now = _at("2026-07-02 18:00:00")  # past the day's period
    assert await run.next() == []

    # Disabled, the calling hours alone decide again (the 09:00 lease has long expired).
    params["enableSchedule"] = "false"
    response = await client.post(url, params=params, json={}, headers=tenant.headers())
    assert response.status_code == 200, response.text
    assert len(await run.phones()) == 2
