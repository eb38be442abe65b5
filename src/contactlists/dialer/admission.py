"""Admission: every contact of a campaign's lists gets its dialing record before a pick.

A campaign's records are made from its lists' contacts in position order, a chunk at a time,
and ``dialing_admission`` remembers how far each list got: a list that gained contacts since is
read from there on, one that did not is not read at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.auth import Caller
from contactlists.db.statistics import GrowthAnalyser
from contactlists.dialer import repository, windows
from contactlists.dialer.repository import CampaignLists
from contactlists.dialer.strategy import Strategy
from contactlists.models.base import utcnow
from contactlists.models.campaigns import Campaign
from contactlists.models.dialing import READY, DialingAdmission
from contactlists.models.lists import ContactList

# Contacts without a (numeric) contactPriority come after every contact with one.
NO_PRIORITY = 2**62
PRIORITY_TEXT = re.compile(r"^\s*[0-9]{1,15}\s*$")
ZONES_MAX = 1024
# Low bits of the order key that hold the position: creation times in milliseconds fit the
# other 43 bits until the year 2248.
SEQ_POSITION_BITS = 19


def _priority(text: str | None) -> int:
    return int(text) if text is not None and PRIORITY_TEXT.match(text) else NO_PRIORITY


def zones_text(contact: Any) -> str:
    """The zones stored with a contact's record: its own, else every zone of its number."""
    zones = list(windows.zones_of(contact.time_zone, contact.phone))
    # A number of a whole numbering plan (toll-free) can name dozens of zones; keep what fits.
    while len(windows.join_zones(zones)) > ZONES_MAX:
        zones.pop()
    return windows.join_zones(zones)


def _record_row(
    caller: Caller, campaign: Campaign, list_id: str, contact: Any, lifo: bool, now: datetime
) -> dict[str, Any]:
    # Creation time first (the contract's "oldest contact first", across lists), then the
    # position within a batch that shares its creation time, in the low bits.
    created = int(contact.created_at.timestamp() * 1000) << SEQ_POSITION_BITS
    created |= contact.position & ((1 << SEQ_POSITION_BITS) - 1)
    return {
        "account_id": caller.account_id,
        "campaign_id": campaign.id,
        "list_id": list_id,
        "position": contact.position,
        "contact_id": contact.id,
        "phone": contact.phone,
        "zones": zones_text(contact),
        "state": READY,
        "due_at": None,
        "rank": 1,
        "priority": _priority(contact.contact_priority),
        "seq": -created if lifo else created,
        "attempts": 0,
        "last_outcome": None,
        "callback_at": None,
        "lease_id": None,
        "dialer_id": None,
        "dispositions": [],
        "bot_session_id": None,
        "detail": None,
        "updated_at": now,
    }


def _admitted_up_to(known: Mapping[str, DialingAdmission], list_id: str) -> int:
    """The last position of the list admitted into the campaign's records (0: none yet)."""
    admission = known.get(list_id)
    return admission.position if admission else 0


async def _admit_chunk(
    session: AsyncSession,
    caller: Caller,
    campaign: Campaign,
    contact_list: ContactList,
    position: int,
    lifo: bool,
    now: datetime,
) -> int | None:
    """Records for the next chunk of the list's contacts after ``position``; the last position
    admitted, or None when there were no more."""
    contacts = await repository.contacts_after(
        session,
        account_id=caller.account_id,
        list_id=contact_list.id,
        position=position,
        limit=repository.ADMIT_CHUNK,
    )
    if not contacts:
        return None
    await repository.insert_records(
        session,
        [
            _record_row(caller, campaign, contact_list.id, contact, lifo, now)
            for contact in contacts
        ],
    )
    last: int = contacts[-1].position
    return last


async def admit_apart(
    apart: async_sessionmaker[AsyncSession], caller: Caller, campaign_id: str
) -> None:
    """Admit the campaign's new contacts in short transactions of their own, one chunk each.

    Run before the request's own transaction starts. Admitters take turns per chunk on the
    campaign's row (SQLite: its single writer; PostgreSQL: the row lock), so two never insert
    the same records at once, and other dialers' picks go on between chunks: nobody waits for a
    whole campaign's admission. Once every list is admitted this is one short read. A large
    admission keeps the records' statistics in step as it goes (contactlists.db.statistics).
    """

    async def analyse() -> None:
        async with apart() as own, own.begin():
            await repository.refresh_statistics(own)

    statistics = GrowthAnalyser(analyse)
    while True:
        async with apart() as own, own.begin():
            campaign = await repository.campaign(
                own, account_id=caller.account_id, bot_id=caller.bot_id, campaign_id=campaign_id
            )
            if campaign is None:
                return
            lists = await repository.lists_of(
                own, account_id=caller.account_id, campaign_id=campaign.id
            )
            known = await repository.admitted(
                own, account_id=caller.account_id, campaign_id=campaign.id
            )
            behind = [
                item
                for item in lists.contacts
                if _admitted_up_to(known, item.id) < item.last_position
            ]
            if not behind:
                return
            if repository.is_postgres(own):
                await repository.lock_campaign(own, campaign)
                known = await repository.admitted(
                    own, account_id=caller.account_id, campaign_id=campaign.id
                )
            contact_list = behind[0]
            position = _admitted_up_to(known, contact_list.id)
            if position >= contact_list.last_position:
                continue  # another admitter did it meanwhile
            lifo = Strategy.of(campaign).lifo
            admitted = await _admit_chunk(
                own, caller, campaign, contact_list, position, lifo, utcnow()
            )
            # Positions spanned: at most the records added (deleted contacts leave gaps).
            added = 0 if admitted is None else admitted - position
            # Positions up to last_position are all committed (the list's row lock orders its
            # writers), so none is left behind when the list's last contacts were deleted.
            await repository.set_admitted(
                own,
                account_id=caller.account_id,
                campaign_id=campaign.id,
                list_id=contact_list.id,
                position=contact_list.last_position if admitted is None else admitted,
                lifo=lifo,
            )
        await statistics.grew(added)


async def admit(
    session: AsyncSession,
    caller: Caller,
    campaign: Campaign,
    lists: CampaignLists,
    strategy: Strategy,
    now: datetime,
) -> None:
    """Give every contact of the campaign's lists not seen yet its dialing record, in the
    request's transaction (what :func:`admit_apart` left: contacts added since)."""
    known = await repository.admitted(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    if not any(_admitted_up_to(known, item.id) < item.last_position for item in lists.contacts):
        return
    await repository.lock_campaign(session, campaign)
    known = await repository.admitted(
        session, account_id=caller.account_id, campaign_id=campaign.id
    )
    for contact_list in lists.contacts:
        position = _admitted_up_to(known, contact_list.id)
        if position >= contact_list.last_position:
            continue  # nothing new: no read of the list at all
        while (
            admitted := await _admit_chunk(
                session, caller, campaign, contact_list, position, strategy.lifo, now
            )
        ) is not None:
            position = admitted
        await repository.set_admitted(
            session,
            account_id=caller.account_id,
            campaign_id=campaign.id,
            list_id=contact_list.id,
            position=position,
            lifo=strategy.lifo,
        )
