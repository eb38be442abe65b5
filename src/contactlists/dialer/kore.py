"""Kore.ai's own dialing routes, answered from the dialing record (CONTRACT §9).

``status?view=contacts`` shows each contact's outcome in Kore.ai's words, ``callContactAt``
schedules callbacks, and ``schedule?enableSchedule=…`` switches a campaign's schedule. The
schedule is stored and shown with the campaign; the dialer's pick does not read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.dialer import repository, windows
from contactlists.dialer.admission import admit
from contactlists.dialer.schedule import KORE_TIME
from contactlists.dialer.schemas import (
    CallbackRequestItem,
    CallbackResult,
    ContactsPageRequest,
    ContactsStatusPage,
    ContactStatus,
    ScheduleRequest,
)
from contactlists.dialer.service import find_campaign
from contactlists.dialer.strategy import Strategy
from contactlists.errors import NotFound, ValidationFailed
from contactlists.models.base import utcnow
from contactlists.models.campaigns import Campaign
from contactlists.models.dialing import EXHAUSTED, LEASED, OPTED_OUT, DialingRecord

# Our outcomes in Kore.ai's dialing-outcome words (its architecture notes list them).
KORE_OUTCOMES = {
    "answered": "completed",
    "completed": "completed",
    "do_not_call": "completed",
    "opted_out": "completed",
    "no_answer": "no-answer",
    "busy": "busy",
    "voicemail": "machine_detected",
    "failed": "failed",
    "callback": "",
}


def _dialer_outcome(record: DialingRecord) -> str:
    if record.state == LEASED:
        return "in-progress"
    if record.last_outcome is None:
        return ""  # not dialed yet
    return KORE_OUTCOMES[record.last_outcome]


async def contacts_status(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    query: ContactsPageRequest,
) -> ContactsStatusPage:
    campaign = await find_campaign(session, caller, campaign_id)
    lists = await repository.lists_of(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    await admit(session, caller, campaign, lists, Strategy.of(campaign), utcnow())
    rows, total = await repository.records_page(
        session,
        account_id=caller.account_id,
        campaign_id=campaign.id,
        list_ids=[item.id for item in lists.contacts],
        skip=(query.page - 1) * query.limit,
        limit=query.limit,
    )
    return ContactsStatusPage(
        results=[
            ContactStatus(
                phoneNumber=contact.phone,
                uniqueId=contact.unique_id or "",
                dialerOutcome=_dialer_outcome(record),
                numberOfAttemptsSoFar=record.attempts,
                botSessionId=record.bot_session_id or "",
                agentDispositionCodes=list(record.dispositions or []),
                botOutboundStatus=record.last_outcome or "",
                botOutboundStatusDetail=record.detail or "",
            )
            for record, contact in rows
        ],
        page=query.page,
        limit=query.limit,
        totalPages=-(-total // query.limit),
        totalResults=total,
    )


def _refusal(record: DialingRecord | None, strategy: Strategy) -> str | None:
    if record is None:
        return "not_found"
    if record.state == OPTED_OUT:
        return "opted_out"
    if record.state == LEASED:
        return "in_progress"
    if record.state == EXHAUSTED or record.attempts >= strategy.max_attempts:
        return "attempts_exhausted"
    return None


async def call_contacts_at(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    items: Sequence[CallbackRequestItem],
    *,
    now: datetime,
) -> list[CallbackResult]:
    """Schedule each contact (its id is Kore.ai's campaignDialingListId) for a callback."""
    campaign = await find_campaign(session, caller, campaign_id)
    strategy = Strategy.of(campaign)
    lists = await repository.lists_of(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    await admit(session, caller, campaign, lists, strategy, now)
    records = await repository.records_of_contacts(
        session,
        account_id=caller.account_id,
        campaign_id=campaign.id,
        list_ids=[item.id for item in lists.contacts],
        contact_ids=[item.campaignDialingListId for item in items],
    )
    results = []
    for item in items:
        record = records.get(item.campaignDialingListId)
        reason = "time_in_past" if item.timeToContact <= now else _refusal(record, strategy)
        if reason is None and record is not None:
            scheduled = await repository.schedule_callback(
                session, record=record, at=item.timeToContact, now=now
            )
            reason = None if scheduled else "in_progress"
        results.append(
            CallbackResult(
                campaignDialingListId=item.campaignDialingListId,
                status="failed" if reason else "success",
                reason=reason,
            )
        )
    return results


def _wall_clock(text: str, zone: str) -> datetime:
    return datetime.strptime(text, KORE_TIME).replace(tzinfo=windows.zone(zone))


async def schedule(
    session: AsyncSession,
    caller: Caller,
    campaign_name: str,
    enable: bool,
    body: ScheduleRequest | None,
    *,
    now: datetime,
) -> Campaign:
    """Enable (with its times and recurrence) or disable the named campaign's schedule."""
    campaign = await repository.campaign_named(
        session, account_id=caller.account_id, bot_id=caller.bot_id, name=campaign_name
    )
    if campaign is None:
        raise NotFound(f"Campaign {campaign_name} was not found.")
    stored: dict[str, Any] = {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
    if enable:
        if body is None:
            raise ValidationFailed.field("startDateTime", "startDateTime is required")
        _check_times(body, Strategy.of(campaign).zone, now)
        stored = {
            "isSchedulingEnabled": True,
            "isRecurrenceEnabled": body.recurrenceObject is not None,
            **body.model_dump(exclude_none=True),
        }
    updated = await repository.set_schedule(
        session, campaign=campaign, schedule=stored, actor=caller.actor, now=utcnow()
    )
    if updated is None:
        raise NotFound(f"Campaign {campaign_name} was not found.")
    return updated


def _check_times(body: ScheduleRequest, zone: str, now: datetime) -> None:
    try:
        start = _wall_clock(body.startDateTime, zone)
        end = _wall_clock(body.endDateTime, zone)
    except ValueError:
        raise ValidationFailed.field("startDateTime", "not a date and time") from None
    if end <= start:
        raise ValidationFailed.field("endDateTime", "endDateTime must be after startDateTime")
    if end <= now:
        raise ValidationFailed.field("endDateTime", "endDateTime must be in the future")
    recurrence = body.recurrenceObject
    if recurrence is not None:
        details = "dailyDetails" if recurrence.recurType == "Daily" else "weeklyDetails"
        if getattr(recurrence, details) is None:
            raise ValidationFailed.field(f"recurrenceObject.{details}", f"{details} is required")
