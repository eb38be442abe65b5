"""Campaign rules (CONTRACT §5). Takes the session, never commits.

The rule that matters most: a campaign never references a deleted list. A campaign write
takes the row lock of every list it names (``lists.repository.lock_live``, the lock the
list delete takes first) inside its own transaction, before it writes its references. So
a concurrent delete either waits and then sees the references (and refuses), or wins and
the campaign write finds the list gone (and refuses).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.campaigns import repository
from contactlists.campaigns.repository import NameTaken, References
from contactlists.campaigns.schemas import (
    CampaignBody,
    CampaignType,
    GetAllCampaigns,
    Trigger,
    VoiceCampaignBody,
)
from contactlists.errors import DuplicateName, InvalidState, NotFound, Problem, ValidationFailed
from contactlists.lists import repository as lists_repository
from contactlists.lists.dnc import ensure_default_dnc
from contactlists.models.base import utcnow
from contactlists.models.campaigns import Campaign
from contactlists.models.lists import ContactList

# What a new campaign starts as: the one status from which `play` starts it (Kore.ai shows
# "Preparing" for voice while it loads contacts, which this service does not do).
INITIAL_STATUS = "Ready"

# The status machine of CONTRACT §5, exactly: (trigger, from) -> to. Nothing else is allowed;
# in particular a Paused campaign is resumed before it is stopped, and Stopped is final.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("play", "Ready"): "Active",
    ("pause", "Active"): "Paused",
    ("resume", "Paused"): "Active",
    ("stop", "Active"): "Stopped",
}


def next_status(trigger: Trigger, current: str) -> str:
    """The status ``trigger`` moves a campaign in ``current`` to; InvalidState if none."""
    target = TRANSITIONS.get((trigger, current))
    if target is None:
        raise InvalidState(f"A campaign in status {current} cannot be given trigger {trigger}.")
    return target


@dataclass(frozen=True)
class CampaignView:
    record: Campaign
    references: References


def _not_found(campaign_id: str) -> NotFound:
    return NotFound(f"Campaign {campaign_id} was not found.")


def _taken(name: str) -> DuplicateName:
    return DuplicateName(f"A campaign named {name} already exists.")


def _check_type(campaign: Campaign, requested: CampaignType | None) -> None:
    if requested is not None and requested != campaign.campaign_type:
        raise ValidationFailed.field(
            "campaignType",
            f"Campaign {campaign.name} is a {campaign.campaign_type} campaign, not {requested}.",
        )


async def find(
    session: AsyncSession, caller: Caller, campaign_id: str, campaign_type: CampaignType | None
) -> Campaign:
    """The caller's campaign, checked against the campaignType the request names (if any)."""
    found = await _find(session, caller, campaign_id)
    _check_type(found, campaign_type)
    return found


async def _find(session: AsyncSession, caller: Caller, campaign_id: str) -> Campaign:
    found = await repository.get(
        session, account_id=caller.account_id, bot_id=caller.bot_id, campaign_id=campaign_id
    )
    if found is None:
        raise _not_found(campaign_id)
    return found


async def views(session: AsyncSession, records: Sequence[Campaign]) -> list[CampaignView]:
    if not records:
        return []
    refs = await repository.references(
        session,
        account_id=records[0].account_id,
        campaign_ids=[record.id for record in records],
    )
    return [CampaignView(record, refs[record.id]) for record in records]


async def view(session: AsyncSession, record: Campaign) -> CampaignView:
    return (await views(session, [record]))[0]


# ---------------------------------------------------------------- list references


@dataclass(frozen=True)
class _Resolved:
    contact_list_ids: list[str]
    dnc_list_id: str | None


async def _resolve_and_lock(
    session: AsyncSession, caller: Caller, body: CampaignBody, default_region: str
) -> _Resolved:
    """The ids of the lists ``body`` names, each locked live for this transaction.

    Every missing name is reported at once. Names resolve first (a read), then the rows are
    locked in id order, so two campaign writes naming the same lists cannot deadlock; a list
    deleted between the two steps is reported missing like any other.
    """
    # The default DNC must exist before names resolve, so a campaign may name it.
    await ensure_default_dnc(session, caller, default_region)
    dnc_name = body.dncLists.name if body.dncLists else None
    wanted = [name.casefold() for name in [*body.contactLists, *([dnc_name] if dnc_name else [])]]
    found = await repository.live_lists_named(
        session, account_id=caller.account_id, bot_id=caller.bot_id, lnames=wanted
    )
    problems = _reference_problems(body.contactLists, dnc_name, found)
    if problems:
        raise ValidationFailed.of(problems)
    contact_ids = list(dict.fromkeys(found[name.casefold()].id for name in body.contactLists))
    dnc_id = found[dnc_name.casefold()].id if dnc_name else None
    for list_id in sorted({*contact_ids, *([dnc_id] if dnc_id else [])}):
        locked = await lists_repository.lock_live(
            session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
        )
        if locked is None:
            gone = next(item.name for item in found.values() if item.id == list_id)
            raise ValidationFailed.field(
                "dncLists.name" if list_id == dnc_id else "contactLists",
                f"List {gone} no longer exists.",
            )
    return _Resolved(contact_ids, dnc_id)


def _reference_problems(
    contact_lists: list[str], dnc_name: str | None, found: dict[str, ContactList]
) -> list[Problem]:
    problems: list[Problem] = []
    missing = [name for name in contact_lists if name.casefold() not in found]
    if missing:
        problems.append(
            Problem(f"These contact lists do not exist: {', '.join(missing)}", "contactLists")
        )
    not_contacts = [
        name
        for name in contact_lists
        if name.casefold() in found and found[name.casefold()].list_type == "dnc"
    ]
    if not_contacts:
        problems.append(
            Problem(
                f"These are DNC lists, not contact lists: {', '.join(not_contacts)}",
                "contactLists",
            )
        )
    if dnc_name is not None:
        dnc = found.get(dnc_name.casefold())
        if dnc is None:
            problems.append(Problem(f"DNC list {dnc_name} does not exist", "dncLists.name"))
        elif dnc.list_type != "dnc":
            problems.append(Problem(f"List {dnc_name} is not a DNC list", "dncLists.name"))
    return problems


# ---------------------------------------------------------------- writes


def _columns(body: CampaignBody) -> dict[str, Any]:
    """The body's columns; the rest of it is the document, shown back as it was validated."""
    kept_apart = {"name", "description", "priority", "dialingMode", "contactLists", "dncLists"}
    document = body.model_dump(exclude=kept_apart | {"campaignType"}, exclude_none=True)
    return {
        "name": body.name,
        "lname": body.name.casefold(),
        "description": body.description,
        "priority": body.priority,
        "dialing_mode": body.dialingMode if isinstance(body, VoiceCampaignBody) else None,
        "document": document,
    }


async def create(
    session: AsyncSession,
    caller: Caller,
    body: CampaignBody,
    campaign_type: CampaignType,
    *,
    default_region: str,
) -> CampaignView:
    resolved = await _resolve_and_lock(session, caller, body, default_region)
    now = utcnow()
    campaign = Campaign(
        account_id=caller.account_id,
        id=f"cd-{uuid.uuid4()}",
        bot_id=caller.bot_id,
        campaign_type=campaign_type,
        status=INITIAL_STATUS,
        instance_id=None,
        created_by=caller.actor,
        updated_by=caller.actor,
        created_at=now,
        updated_at=now,
        **_columns(body),
    )
    try:
        await repository.insert_campaign(session, campaign)
    except NameTaken:
        raise _taken(body.name) from None
    await repository.replace_references(
        session,
        account_id=caller.account_id,
        campaign_id=campaign.id,
        contact_list_ids=resolved.contact_list_ids,
        dnc_list_id=resolved.dnc_list_id,
    )
    return await view(session, campaign)


async def update(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    body: CampaignBody,
    *,
    default_region: str,
) -> CampaignView:
    """Replace the campaign's fields and lists with ``body`` (validated for its type)."""
    # Lists are locked before the campaign row: every writer takes list locks first.
    resolved = await _resolve_and_lock(session, caller, body, default_region)
    values = {**_columns(body), "updated_at": utcnow(), "updated_by": caller.actor}
    try:
        updated = await repository.update_campaign(
            session,
            account_id=caller.account_id,
            bot_id=caller.bot_id,
            campaign_id=campaign_id,
            values=values,
        )
    except NameTaken:
        raise _taken(body.name) from None
    if updated is None:
        raise _not_found(campaign_id)
    await repository.replace_references(
        session,
        account_id=caller.account_id,
        campaign_id=campaign_id,
        contact_list_ids=resolved.contact_list_ids,
        dnc_list_id=resolved.dnc_list_id,
    )
    return await view(session, updated)


async def delete(
    session: AsyncSession, caller: Caller, campaign_id: str, campaign_type: CampaignType | None
) -> CampaignView:
    """Delete the campaign unless it is Active; answers with the campaign as it was."""
    locked = await repository.lock(
        session, account_id=caller.account_id, bot_id=caller.bot_id, campaign_id=campaign_id
    )
    if locked is None:
        raise _not_found(campaign_id)
    _check_type(locked, campaign_type)
    if locked.status == "Active":
        raise InvalidState(f"Campaign {locked.name} is Active; stop it before deleting it.")
    as_it_was = await view(session, locked)
    await repository.delete_campaign(session, account_id=caller.account_id, campaign_id=campaign_id)
    return as_it_was


async def trigger(
    session: AsyncSession,
    caller: Caller,
    campaign_id: str,
    action: Trigger,
    campaign_type: CampaignType | None,
) -> Campaign:
    """Move the campaign through the status machine, once even under concurrent triggers."""
    current = await find(session, caller, campaign_id, campaign_type)
    target = next_status(action, current.status)
    values: dict[str, Any] = {
        "status": target,
        "updated_at": utcnow(),
        "updated_by": caller.actor,
    }
    if action == "play":
        values["instance_id"] = f"cid-{uuid.uuid4()}"
    moved = await repository.update_campaign(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        campaign_id=campaign_id,
        values=values,
        expected_status=current.status,
    )
    if moved is None:
        # Another request changed or deleted it since it was read: judge against what is there now.
        now = await _find(session, caller, campaign_id)
        next_status(action, now.status)
        raise InvalidState(f"Campaign {now.name} changed while it was being triggered.")
    return moved


# ---------------------------------------------------------------- reads


async def get(session: AsyncSession, caller: Caller, campaign_id: str) -> CampaignView:
    return await view(session, await _find(session, caller, campaign_id))


async def status(session: AsyncSession, caller: Caller, campaign_id: str) -> Campaign:
    return await _find(session, caller, campaign_id)


async def get_all(
    session: AsyncSession, caller: Caller, query: GetAllCampaigns
) -> tuple[list[CampaignView], int, int, int]:
    """A page of campaigns: (views, skip, limit, total)."""
    if query.startDate and query.endDate and query.startDate > query.endDate:
        raise ValidationFailed.field("startDate", "startDate must not be after endDate")
    skip, limit = query.window()
    sort_key, direction = query.sortBy.order()
    filters = query.filters
    found, total = await repository.page(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        query=repository.PageQuery(
            campaign_type=query.type,
            statuses=filters.status,
            priorities=filters.priority,
            dialing_modes=filters.dialingMode,
            created_from=query.startDate,
            created_until=query.endDate,
            sort_key=sort_key,
            descending=direction == "desc",
            skip=skip,
            limit=limit,
        ),
    )
    return await views(session, found), skip, limit, total
