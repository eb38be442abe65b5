"""Calling windows: the campaign's ``callingHours`` and each contact's local hours (pure).

Every rule is a wall-clock rule in some zone, so every test converts the instant to that zone
with ``zoneinfo``: the days a clock change makes 23 or 25 hours long need nothing special.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from contactlists.campaigns.schemas import minutes_of_day
from contactlists.contacts.phones import is_time_zone

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LOCAL_HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
# How far ahead a closed window is looked for before giving up until then.
LOOK_AHEAD = timedelta(days=8)


@dataclass(frozen=True)
class LocalHours:
    """The hours a contact may be called in its own zone, as minutes of the day [start, end)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> LocalHours:
        """``"08:00-21:00"``."""
        match = LOCAL_HOURS.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not HH:MM-HH:MM")
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"{text!r} does not start before it ends")
        return cls(start, end)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def local_open(name: str, now: datetime, hours: LocalHours) -> bool:
    minute = _minute(now.astimezone(zone(name)))
    return hours.start <= minute < hours.end


def _next_local_opening(name: str, now: datetime, hours: LocalHours) -> datetime:
    local = now.astimezone(zone(name))
    day = local.date() if _minute(local) < hours.start else local.date() + timedelta(days=1)
    hour, minute = divmod(hours.start, 60)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(name))


def contact_open(zones: Sequence[str], now: datetime, hours: LocalHours) -> bool:
    return all(local_open(name, now, hours) for name in zones)


def next_contact_opening(zones: Sequence[str], now: datetime, hours: LocalHours) -> datetime:
    """The earliest moment from ``now`` at which every zone's local window is open.

    Zones whose windows never overlap (Tokyo and New York with short hours) get a moment a
    day ahead, when the question is simply asked again.
    """
    moment = now
    for _ in range(2 * len(zones) + 2):
        closed = [name for name in zones if not local_open(name, moment, hours)]
        if not closed:
            return moment
        moment = max(_next_local_opening(name, moment, hours) for name in closed)
    return now + timedelta(days=1)


def _days(calling_hours: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    return [
        (DAY_CODES.index(day["day"]), minutes_of_day(day["start"]), minutes_of_day(day["end"]))
        for day in calling_hours.get("days", [])
    ]


def campaign_open(calling_hours: Mapping[str, Any], now: datetime) -> bool:
    """Whether ``now`` is inside one of the campaign's calling days, in the campaign's zone."""
    local = now.astimezone(zone(calling_hours["timezone"]))
    minute = _minute(local)
    return any(
        weekday == local.weekday() and start <= minute < end
        for weekday, start, end in _days(calling_hours)
    )


@cache
def number_zones(phone: str) -> tuple[str, ...]:
    """Every zone an E.164 number can be in, as libphonenumber knows it; () when unknown."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    kind = phonenumbers.number_type(number)
    if phonenumbers.is_number_type_geographical(kind, number.country_code or 0):
        found = timezone.time_zones_for_geographical_number(number)
    elif kind != PhoneNumberType.UNKNOWN:
        found = timezone.time_zones_for_number(number)
    else:
        found = ()
    return tuple(sorted(name for name in found if is_time_zone(name)))


def zones_of(time_zone: str | None, phone: str) -> tuple[str, ...]:
    """The zones whose local window must be open for a contact: its own, else its number's."""
    if time_zone:
        return (time_zone,)
    return number_zones(phone)


def join_zones(zones: Iterable[str]) -> str:
    return ",".join(zones)


def split_zones(text: str, campaign_zone: str) -> tuple[str, ...]:
    """The stored zones of a record; none known means the campaign's zone."""
    return tuple(text.split(",")) if text else (campaign_zone,)
