"""The dialer's rules (CONTRACT §9): the pick, outcomes and the summary.

Every rule about time takes ``now`` from the caller (the request's clock), never the wall clock.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.auth import Caller
from contactlists.dialer import repository, windows
from contactlists.dialer.admission import admit, admit_apart, zones_text
from contactlists.dialer.repository import CampaignLists, Candidate
from contactlists.dialer.schemas import (
    LeasedContact,
    NextRequest,
    OutcomeItem,
    OutcomeResult,
    Summary,
)
from contactlists.dialer.strategy import Strategy
from contactlists.dialer.windows import LocalHours
from contactlists.dnc import repository as dnc_repository
from contactlists.dnc import service as dnc
from contactlists.errors import InvalidState, NotFound, Problem, ValidationFailed
from contactlists.lists.dnc import ensure_default_dnc
from contactlists.models.campaigns import Campaign
from contactlists.models.dialing import (
    DNC,
    DONE,
    EXHAUSTED,
    GONE,
    LEASED,
    OPTED_OUT,
    WAITING,
    WINDOW,
    DialingRecord,
)
from contactlists.models.lists import ContactList

ACTIVE = "Active"
RETRYABLE = frozenset({"no_answer", "busy", "voicemail", "failed"})
ENDING = frozenset({"completed", "answered", "do_not_call"})
# A number held by a DNC entry without an end is looked at again after this long, so a number
# taken off the list comes back.
DNC_RECHECK = timedelta(hours=1)
# A pick reads at least this many candidates at a time, and parks at most this many rounds.
PICK_BATCH = 200
PICK_ROUNDS = 50


def _not_found(campaign_id: str) -> NotFound:
    return NotFound(f"Campaign {campaign_id} was not found.")


async def find_campaign(session: AsyncSession, caller: Caller, campaign_id: str) -> Campaign:
    found = await repository.campaign(
        session, account_id=caller.account_id, bot_id=caller.bot_id, campaign_id=campaign_id
    )
    if found is None:
        raise _not_found(campaign_id)
    return found


async def _blocking_lists(
    session: AsyncSession, caller: Caller, lists: CampaignLists
) -> list[ContactList]:
    """The campaign's DNC lists and the bot's Default Global DNC."""
    bot_lists = await dnc_repository.dnc_lists(
        session, account_id=caller.account_id, bot_id=caller.bot_id
    )
    named = {item.id for item in lists.dnc}
    return [item for item in bot_lists if item.id in named or item.is_default]


async def _prepared(
    session: AsyncSession,
    caller: Caller,
    campaign: Campaign,
    now: datetime,
) -> tuple[Strategy, CampaignLists]:
    strategy = Strategy.of(campaign)
    lists = await repository.lists_of(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    await admit(session, caller, campaign, lists, strategy, now)
    await repository.sweep(session, account_id=caller.account_id, campaign_id=campaign.id, now=now)
    return strategy, lists


# ---------------------------------------------------------------- the pick


def _dnc_until(entries: Sequence[dnc_repository.Entry], now: datetime) -> datetime:
    ends = [dnc.expires_at(entry) for entry in entries]
    recheck = now + DNC_RECHECK
    if any(end is None for end in ends):
        return recheck
    return min(recheck, max(end for end in ends if end is not None))


def _leased(candidate: Candidate, lease_id: str, attempt: int, expires: datetime) -> LeasedContact:
    contact = candidate.contact
    assert contact is not None
    return LeasedContact(
        leaseId=lease_id,
        contactId=contact.id,
        contactListId=contact.list_id,
        phoneNumber=contact.phone,
        firstName=contact.first_name,
        lastName=contact.last_name,
        timeZone=contact.time_zone,
        uniqueId=contact.unique_id,
        contactPriority=contact.contact_priority,
        fields=dict(contact.fields or {}),
        attempt=attempt,
        leaseExpiresAt=expires,
    )


def _refreshed(batch: Sequence[Candidate]) -> dict[int, tuple[str, str]]:
    """The new (phone, zones) of each candidate whose contact's number or time zone changed
    since its record was made, by the candidate's id()."""
    found = {}
    for candidate in batch:
        if candidate.contact is None:
            continue
        now_stored = (candidate.contact.phone, zones_text(candidate.contact))
        if now_stored != (candidate.record.phone, candidate.record.zones):
            found[id(candidate)] = now_stored
    return found


def _key(record: DialingRecord) -> dict[str, Any]:
    return {
        "account_id": record.account_id,
        "campaign_id": record.campaign_id,
        "list_id": record.list_id,
        "position": record.position,
    }


async def next_contacts(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    body: NextRequest,
    *,
    now: datetime,
    local_hours: LocalHours,
    apart: async_sessionmaker[AsyncSession] | None = None,
) -> list[LeasedContact]:
    """Lease up to ``body.limit`` contacts eligible now, in the contract's order."""
    if apart is not None:
        await admit_apart(apart, caller, campaign_id)
    campaign = await find_campaign(session, caller, campaign_id)
    if campaign.status != ACTIVE:
        raise InvalidState(
            f"Campaign {campaign.name} is {campaign.status}; only an Active campaign is dialed."
        )
    strategy, lists = await _prepared(session, caller, campaign, now)
    if not strategy.open(now):
        return []
    blocking = await _blocking_lists(session, caller, lists)
    list_ids = [item.id for item in lists.contacts]
    expires = now + timedelta(seconds=body.leaseSeconds)
    chosen: list[LeasedContact] = []
    for _ in range(PICK_ROUNDS):
        wanted = body.limit - len(chosen)
        batch = await repository.candidates(
            session,
            account_id=caller.account_id,
            campaign_id=campaign.id,
            list_ids=list_ids,
            limit=max(wanted, PICK_BATCH),
        )
        # A contact's number or zone can change after admission (an edit, an upsert, an undo):
        # what is checked is the number that would be dialled, and the record takes it on.
        refreshed = _refreshed(batch)
        held = await dnc.blocking(
            session,
            account_id=caller.account_id,
            lists=blocking,
            phones={refreshed.get(id(c), (c.record.phone, ""))[0] for c in batch},
            now=now,
        )
        changes: list[dict[str, Any]] = []
        leases: list[dict[str, Any]] = []
        for candidate in batch:
            record = candidate.record
            phone, stored_zones = refreshed.get(id(candidate), (record.phone, record.zones))
            key = _key(record)
            if id(candidate) in refreshed:
                key |= {"phone": phone, "zones": stored_zones}
            if candidate.contact is None:
                changes.append({**key, "state": GONE, "due_at": None})
            elif record.attempts >= strategy.max_attempts:
                changes.append({**key, "state": EXHAUSTED, "due_at": None})
            elif phone in held:
                due = _dnc_until(held[phone], now)
                changes.append({**key, "state": DNC, "due_at": due})
            elif not windows.contact_open(
                zones := windows.split_zones(stored_zones, strategy.zone), now, local_hours
            ):
                due = windows.next_contact_opening(zones, now, local_hours)
                changes.append({**key, "state": WINDOW, "due_at": due})
            elif len(chosen) < body.limit:
                lease_id = f"ls-{uuid.uuid4()}"
                attempt = record.attempts + 1
                changes.append(
                    {
                        **key,
                        "state": LEASED,
                        "due_at": expires,
                        "lease_id": lease_id,
                        "dialer_id": body.dialerId,
                        "updated_at": now,
                    }
                )
                leases.append(
                    {
                        "account_id": caller.account_id,
                        "id": lease_id,
                        "campaign_id": campaign.id,
                        "list_id": record.list_id,
                        "position": record.position,
                        "attempt": attempt,
                        "expires_at": expires,
                        "outcome": None,
                    }
                )
                chosen.append(_leased(candidate, lease_id, attempt, expires))
        await repository.update_records(session, changes)
        await repository.insert_leases(session, leases)
        if len(chosen) >= body.limit or len(batch) < max(wanted, PICK_BATCH):
            break
    return chosen


# ---------------------------------------------------------------- outcomes


def _callbacks_missing(items: Sequence[OutcomeItem]) -> None:
    problems = [
        Problem("callbackAt is required for a callback outcome", f"results.{index}.callbackAt")
        for index, item in enumerate(items)
        if item.outcome == "callback" and item.callbackAt is None
    ]
    if problems:
        raise ValidationFailed.of(problems)


def _values(
    item: OutcomeItem, record: DialingRecord, strategy: Strategy, now: datetime
) -> dict[str, Any]:
    attempts = record.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_outcome": item.outcome,
        "rank": 1,
        "due_at": None,
        "updated_at": now,
    }
    if item.dispositionCodes is not None:
        values["dispositions"] = item.dispositionCodes
    if item.botSessionId is not None:
        values["bot_session_id"] = item.botSessionId
    if item.detail is not None:
        values["detail"] = item.detail
    if item.outcome in ENDING:
        values["state"] = DONE
    elif item.outcome == "opted_out":
        values["state"] = OPTED_OUT
    elif attempts >= strategy.max_attempts:
        values["state"] = EXHAUSTED
    elif item.outcome == "callback":
        assert item.callbackAt is not None
        values.update(state=WAITING, rank=0, due_at=max(item.callbackAt, now))
        values["callback_at"] = values["due_at"]
    else:
        values.update(state=WAITING, due_at=now + strategy.retry)
    return values


async def report(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    items: Sequence[OutcomeItem],
    *,
    now: datetime,
    default_region: str,
) -> list[OutcomeResult]:
    """Apply each outcome to the lease it names, once; in the order given."""
    _callbacks_missing(items)
    campaign = await find_campaign(session, caller, campaign_id)
    strategy = Strategy.of(campaign)
    lists = await repository.lists_of(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    found = await repository.leases(
        session,
        account_id=caller.account_id,
        campaign_id=campaign.id,
        lease_ids=[item.leaseId for item in items],
        live_list_ids={item.id for item in lists.contacts},
    )
    results: list[OutcomeResult] = []
    do_not_call: set[str] = set()
    for item in items:
        lease = found.get(item.leaseId)
        if lease is None or lease.record is None or not lease.reachable:
            results.append(
                OutcomeResult(leaseId=item.leaseId, accepted=False, reason="unknown_lease")
            )
            continue
        ended = lease.lease.outcome is None and await repository.end_lease(
            session,
            account_id=caller.account_id,
            campaign_id=campaign.id,
            lease=lease.lease,
            values=_values(item, lease.record, strategy, now),
            outcome=item.outcome,
            now=now,
        )
        if ended:
            results.append(OutcomeResult(leaseId=item.leaseId, accepted=True))
            if item.outcome == "do_not_call":
                do_not_call.add(lease.record.phone)
            continue
        # Reported before (the same outcome counts once), or the lease ran out.
        before = await repository.outcome_of(
            session, account_id=caller.account_id, lease_id=item.leaseId
        )
        if before == item.outcome:
            results.append(OutcomeResult(leaseId=item.leaseId, accepted=True))
        else:
            results.append(
                OutcomeResult(leaseId=item.leaseId, accepted=False, reason="lease_expired")
            )
    if do_not_call:
        default = await ensure_default_dnc(session, caller, default_region)
        if default is not None:
            await dnc.add_numbers(
                session, caller=caller, dnc_list=default, phones=do_not_call, reason="do_not_call"
            )
    return results


# ---------------------------------------------------------------- summary

FINAL_COUNTS = {OPTED_OUT: "optedOut", EXHAUSTED: "exhausted", DONE: "done", LEASED: "leased"}


async def summary(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    *,
    now: datetime,
    local_hours: LocalHours,
    apart: async_sessionmaker[AsyncSession] | None = None,
) -> Summary:
    """The campaign's contacts counted by what the dialer would do with them now.

    Each contact is in exactly one count, judged in this order: opted out, exhausted, done,
    leased, callback, waiting retry, DNC, outside its window (or the campaign's), eligible now.
    The database counts the records by state and, for the open ones, by zones and whether a
    DNC entry holds the number; each distinct zones is then judged once. A number held only
    by entries with an end (``expiresAt``) is looked up again here, so the entry is read as
    ``dnc.service.counts`` reads it.
    """
    if apart is not None:
        await admit_apart(apart, caller, campaign_id)
    campaign = await find_campaign(session, caller, campaign_id)
    strategy, lists = await _prepared(session, caller, campaign, now)
    blocking = await _blocking_lists(session, caller, lists)
    list_ids = [item.id for item in lists.contacts]
    dnc_list_ids = [item.id for item in blocking]
    counts = dict.fromkeys(
        ("leased", "waitingRetry", "callbacks", "outsideWindow", "dnc", "optedOut",
         "exhausted", "done", "eligibleNow"),
        0,
    )  # fmt: skip
    # The open records off the DNC lists now, by their zones.
    clear: Counter[str] = Counter()
    held_until = False
    for row in await repository.summary_counts(
        session,
        account_id=caller.account_id,
        campaign_id=campaign.id,
        list_ids=list_ids,
        dnc_list_ids=dnc_list_ids,
    ):
        if row.state in FINAL_COUNTS:
            counts[FINAL_COUNTS[row.state]] += row.count
        elif row.state == WAITING:
            counts["callbacks" if row.rank == 0 else "waitingRetry"] += row.count
        elif row.held == dnc_repository.HELD:
            counts["dnc"] += row.count
        elif row.held == dnc_repository.HELD_UNTIL:
            held_until = True  # counted below, number by number
        else:
            clear[row.zones or ""] += row.count
    if held_until:
        rows = await repository.summary_held_until(
            session,
            account_id=caller.account_id,
            campaign_id=campaign.id,
            list_ids=list_ids,
            dnc_list_ids=dnc_list_ids,
        )
        held = await dnc.blocking(
            session,
            account_id=caller.account_id,
            lists=blocking,
            phones={phone for _, phone, _ in rows},
            now=now,
        )
        for zones, phone, count in rows:
            if phone in held:
                counts["dnc"] += count
            else:
                clear[zones] += count
    campaign_open = strategy.open(now)
    by_zone: Counter[str] = Counter()
    for zones, count in sorted(clear.items()):
        if not campaign_open or not windows.contact_open(
            windows.split_zones(zones, strategy.zone), now, local_hours
        ):
            counts["outsideWindow"] += count
        else:
            counts["eligibleNow"] += count
            by_zone[zones or strategy.zone] += count
    return Summary(total=sum(counts.values()), eligibleNowByTimeZone=dict(by_zone), **counts)
