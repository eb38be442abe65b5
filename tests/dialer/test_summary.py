"""dialer/summary (CONTRACT §9) against a brute-force count over the contacts.

Hypothesis draws contacts (numbers, zones, priorities), DNC entries (some expiring), a pick, an
outcome per leased contact and a later clock; the summary's counts must equal a count made
from first principles, contact by contact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dialer.support import NOW, Clock, dialing, hold_clock, numbers
from tests.support.contacts import add_contacts, create_list
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio
Jobs = Callable[[], Awaitable[int]]

# Numbers and the zones libphonenumber gives each (Idaho's 208 spans two).
NUMBERS = {
    "+12125550100": ("America/New_York",),
    "+12125550101": ("America/New_York",),
    "+13105550100": ("America/Los_Angeles",),
    "+13105550101": ("America/Los_Angeles",),
    "+13125550100": ("America/Chicago",),
    "+12085550123": ("America/Boise", "America/Los_Angeles"),
    "+12085550124": ("America/Boise", "America/Los_Angeles"),
}
ZONES = [None, "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]
OUTCOMES = [None, "no_answer", "callback", "completed", "opted_out", "do_not_call"]
LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=60)


@dataclass(frozen=True)
class Scenario:
    contacts: list[dict[str, Any]]
    dnc: dict[str, int | None]  # number -> hours from NOW until the entry ends (None: never)
    limit: int
    outcomes: list[str | None]
    callback_hours: list[int]
    later_minutes: int
    max_attempts: int


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    phones = draw(st.lists(st.sampled_from(sorted(NUMBERS)), min_size=1, max_size=7, unique=True))
    contacts = []
    for phone in phones:
        contact: dict[str, Any] = {"phoneNumber": phone}
        if (zone := draw(st.sampled_from(ZONES))) is not None:
            contact["timeZone"] = zone
        if (priority := draw(st.sampled_from([None, "1", "2"]))) is not None:
            contact["contactPriority"] = priority
        contacts.append(contact)
    dnc = draw(
        st.dictionaries(
            st.sampled_from(sorted(NUMBERS)), st.sampled_from([None, -3, 3, 30]), max_size=3
        )
    )
    return Scenario(
        contacts=contacts,
        dnc=dnc,
        limit=draw(st.integers(1, 7)),
        outcomes=draw(st.lists(st.sampled_from(OUTCOMES), min_size=7, max_size=7)),
        callback_hours=draw(st.lists(st.integers(0, 20), min_size=7, max_size=7)),
        later_minutes=draw(st.sampled_from([0, 4, 6, 59, 61, 8 * 60, 13 * 60, 20 * 60])),
        max_attempts=draw(st.sampled_from([1, 2])),
    )


def _open(zone: str, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    return 8 * 60 <= local.hour * 60 + local.minute < 21 * 60


def _campaign_open(moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo("America/New_York"))
    return local.hour * 60 + local.minute < 23 * 60 + 59  # every day, 12:00 AM to 11:59 PM


def expected(
    scenario: Scenario, leased: dict[str, tuple[str | None, datetime]], later: datetime
) -> Counter[str]:
    """What each contact is at ``later``, judged as the contract says, one by one."""
    on_dnc = {
        phone
        for phone, hours in scenario.dnc.items()
        if hours is None or NOW + timedelta(hours=hours) > later
    }
    on_dnc |= {phone for phone, (outcome, _) in leased.items() if outcome == "do_not_call"}
    counts: Counter[str] = Counter()
    for contact in scenario.contacts:
        phone = contact["phoneNumber"]
        if phone in leased:
            outcome, callback = leased[phone]
            if outcome == "opted_out":
                counts["optedOut"] += 1
                continue
            if outcome in ("completed", "do_not_call"):
                counts["done"] += 1
                continue
            if outcome is not None and scenario.max_attempts <= 1:
                counts["exhausted"] += 1
                continue
            if outcome is None and later < NOW + LEASE:
                counts["leased"] += 1
                continue
            if outcome == "no_answer" and later < NOW + RETRY:
                counts["waitingRetry"] += 1
                continue
            if outcome == "callback" and later < callback:
                counts["callbacks"] += 1
                continue
        zones = (contact["timeZone"],) if "timeZone" in contact else NUMBERS[phone]
        if phone in on_dnc:
            counts["dnc"] += 1
        elif not _campaign_open(later) or not all(_open(zone, later) for zone in zones):
            counts["outsideWindow"] += 1
        else:
            counts["eligibleNow"] += 1
    return counts


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_summary_agrees_with_a_brute_force_count(
    app: FastAPI, client: AsyncClient, tenants: TenantFactory, run_jobs: Jobs, scenario: Scenario
) -> None:
    clock: Clock = hold_clock(app)
    # A bot of its own per example: do_not_call fills the bot's Default Global DNC.
    tenant = await tenants.create()
    dnc_name = "Complaints"
    await create_list(client, tenant, dnc_name, listType="dnc")
    if scenario.dnc:
        entries = []
        for phone, hours in scenario.dnc.items():
            entry = {"phoneNumber": phone}
            if hours is not None:
                entry["expiresAt"] = (NOW + timedelta(hours=hours)).isoformat()
            entries.append(entry)
        await add_contacts(client, tenant, dnc_name, entries)
    run = await dialing(
        client,
        tenant,
        run_jobs,
        scenario.contacts,
        dnc=dnc_name,
        maxAttemptsPerRecord=scenario.max_attempts,
        defaultRetryPeriod=60,
    )
    picked = await run.next(limit=scenario.limit)
    leased: dict[str, tuple[str | None, datetime]] = {}
    for index, contact in enumerate(picked):
        outcome = scenario.outcomes[index]
        callback = NOW + timedelta(hours=scenario.callback_hours[index])
        leased[contact["phoneNumber"]] = (outcome, callback)
        if outcome is not None:
            extra = {"callbackAt": callback.isoformat()} if outcome == "callback" else {}
            await run.report([contact], outcome, **extra)
    later = NOW + timedelta(minutes=scenario.later_minutes)
    clock.now = later
    summary = await run.summary()
    want = expected(scenario, leased, later)
    got = Counter({key: value for key, value in summary.items() if isinstance(value, int)})
    del got["total"]
    assert summary["total"] == len(scenario.contacts)
    assert +got == +want, (summary, want)
    assert sum(summary["eligibleNowByTimeZone"].values()) == summary["eligibleNow"]


async def test_dnc_entries_are_read_as_the_pick_reads_them(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: Jobs
) -> None:
    """The counts the database makes, with each entry's end read as the pick reads it."""
    clock = hold_clock(app)
    hour = timedelta(hours=1)
    await create_list(client, tenant, "Complaints", listType="dnc")
    n = [contact["phoneNumber"] for contact in numbers(7)]
    await add_contacts(
        client,
        tenant,
        "Complaints",
        [
            {"phoneNumber": n[0], "expiresAt": NOW.isoformat()},  # ends at the summary's now
            {"phoneNumber": n[1]},  # on both lists: counted once
            {"phoneNumber": n[2], "expiresAt": (NOW + hour).isoformat()},
            {"phoneNumber": n[3], "expiresAt": "next week"},  # not a time: never ends
            {"phoneNumber": n[4], "expiresAt": ""},  # no end
            {"phoneNumber": n[5], "expiresAt": (NOW - hour).isoformat()},
        ],
    )
    await add_contacts(
        client,
        tenant,
        "Default Global DNC",
        [
            {"phoneNumber": n[1]},
            {"phoneNumber": n[2], "expiresAt": (NOW - hour).isoformat()},
            {"phoneNumber": n[5], "expiresAt": "2026-07-01T19:00:00Z"},  # NOW + 2 hours
        ],
    )
    contacts = [
        *numbers(7),
        {"phoneNumber": "+12122000100", "timeZone": "Asia/Tokyo"},  # 02:00 there
        {"phoneNumber": "+441632960000"},  # no zone known: the campaign's (New York)
    ]
    run = await dialing(client, tenant, run_jobs, contacts, dnc="Complaints")
    summary = await run.summary()
    assert (summary["total"], summary["dnc"], summary["outsideWindow"]) == (9, 5, 1)
    assert summary["eligibleNowByTimeZone"] == {"America/New_York": 3}  # 0, 6 and +44
    clock.now = NOW + hour  # 2's entry ends; 5's second one holds it another hour
    summary = await run.summary()
    assert (summary["dnc"], summary["eligibleNow"]) == (4, 4)
    clock.now = NOW + 2 * hour
    assert (await run.summary())["dnc"] == 3
