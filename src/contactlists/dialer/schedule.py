"""A campaign's Kore.ai schedule as the dialer applies it (pure).

``schedule?enableSchedule=true`` stores a start and an end (wall clock in the campaign's
zone) and, optionally, a recurrence. What the dialer reads from it:

- no schedule, or a disabled one: no limit beyond the calling hours;
- enabled without recurrence: one period, from the start to the end;
- enabled with ``Daily`` every N days, or ``Weekly`` every N weeks on some days: on each day
  of the recurrence from the start's date to the end's date, the period from the start's time
  of day to the end's time of day. An end time of day at or before the start's runs past
  midnight into the next day. Weeks are counted from the Monday of the start's week.

The schedule only narrows the calling hours, never widens them: a contact is handed out when
both, and its own local window, are open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KORE_TIME = "%Y-%m-%d %H:%M:%S"
WEEK_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Schedule:
    """An enabled schedule: where it starts and ends, and which days recur (None: no recurrence)."""

    start: datetime
    end: datetime
    every_days: int | None = None
    every_weeks: int | None = None
    week_days: frozenset[int] = frozenset()

    @classmethod
    def of(cls, stored: Mapping[str, Any], zone: ZoneInfo) -> Schedule | None:
        """The schedule a campaign's document holds, or None when it has none enabled."""
        if not stored.get("isSchedulingEnabled"):
            return None
        start = datetime.strptime(stored["startDateTime"], KORE_TIME).replace(tzinfo=zone)
        end = datetime.strptime(stored["endDateTime"], KORE_TIME).replace(tzinfo=zone)
        recurrence = stored.get("recurrenceObject")
        if not recurrence:
            return cls(start, end)
        if recurrence["recurType"] == "Daily":
            return cls(start, end, every_days=int(recurrence["dailyDetails"]["onceEveryNdays"]))
        weekly = recurrence["weeklyDetails"]
        return cls(
            start,
            end,
            every_weeks=int(weekly["onceEveryNweeks"]),
            week_days=frozenset(WEEK_DAYS.index(day) for day in weekly["whichDays"]),
        )

    @property
    def recurs(self) -> bool:
        return self.every_days is not None or self.every_weeks is not None

    def open(self, now: datetime) -> bool:
        """Whether ``now`` falls inside the schedule."""
        local = now.astimezone(self.start.tzinfo)
        if not self.start <= local < self.end:
            return False
        if not self.recurs:
            return True
        # A period begins on a recurring day; one that runs past midnight began yesterday.
        return any(
            self._recurs_on(day) and self._period(day)[0] <= local < self._period(day)[1]
            for day in (local.date(), local.date() - DAY)
        )

    def _period(self, day: date) -> tuple[datetime, datetime]:
        zone = self.start.tzinfo
        begins = datetime.combine(day, self.start.time()).replace(tzinfo=zone)
        end_time: time = self.end.time()
        ends_day = day if end_time > self.start.time() else day + DAY
        return begins, datetime.combine(ends_day, end_time).replace(tzinfo=zone)

    def _recurs_on(self, day: date) -> bool:
        first = self.start.date()
        if not first <= day <= self.end.date():
            return False
        if self.every_days is not None:
            return (day - first).days % self.every_days == 0
        assert self.every_weeks is not None
        first_monday = first - timedelta(days=first.weekday())
        weeks = (day - first_monday).days // 7
        return day.weekday() in self.week_days and weeks % self.every_weeks == 0
