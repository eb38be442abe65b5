"""All SQL of the DNC lists: which of the bot's DNC lists hold given numbers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, SQLColumnExpression, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.contacts import Contact
from contactlists.models.lists import ContactList

# Bound parameters per statement stay well under both databases' limits.
LOOKUP_CHUNK = 5_000
# The entry's field saying when it stops counting (dnc.service.expires_at reads it).
EXPIRES_AT = "expiresAt"


@dataclass(frozen=True)
class Entry:
    """A number on a DNC list, with the entry's own fields (``expiresAt``, ``reason``)."""

    phone: str
    list_id: str
    list_name: str
    fields: dict[str, str]


async def dnc_lists(session: AsyncSession, *, account_id: str, bot_id: str) -> list[ContactList]:
    """The bot's live DNC lists (a handful)."""
    found = await session.scalars(
        select(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.list_type == "dnc",
            ContactList.deleted_at.is_(None),
        )
    )
    return list(found)


async def entries(
    session: AsyncSession,
    *,
    account_id: str,
    lists: Sequence[ContactList],
    phones: Collection[str],
) -> list[Entry]:
    """The entries of ``lists`` for ``phones``: one index probe per (list, number)."""
    if not lists or not phones:
        return []
    names = {item.id: item.name for item in lists}
    found: list[Entry] = []
    wanted = sorted(set(phones))
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = await session.execute(
            select(Contact.phone, Contact.list_id, Contact.fields).where(
                Contact.account_id == account_id,
                Contact.list_id.in_(list(names)),
                Contact.phone.in_(wanted[start : start + LOOKUP_CHUNK]),
            )
        )
        found.extend(
            Entry(phone, list_id, names[list_id], dict(fields or {}))
            for phone, list_id, fields in rows
        )
    return found


# How a number is held, as ``hold`` tells it.
HELD = 2  # by an entry without an end: it counts at any time
HELD_UNTIL = 1  # only by entries with an end: whether one counts now is judged in Python


def hold(
    *,
    account_id: SQLColumnExpression[str],
    phone: SQLColumnExpression[str],
    list_ids: Sequence[str],
) -> ScalarSelect[int]:
    """How ``list_ids`` hold ``phone``, a column of the outer statement: HELD, HELD_UNTIL or NULL.

    One probe of ``ix_contact_phone`` per list, the entry's row read only when found. An entry
    whose ``expiresAt`` is missing, null or empty counts at any time (``dnc.service.counts``);
    whether one with an end counts now is left to Python, which reads the time as
    ``dnc.service.expires_at`` does (SQL could not read every ISO 8601 form alike).
    """
    ends = Contact.fields[EXPIRES_AT].as_string()
    return (
        select(func.max(case((or_(ends.is_(None), ends == ""), HELD), else_=HELD_UNTIL)))
        .where(
            Contact.account_id == account_id,
            Contact.list_id.in_(list_ids),
            Contact.phone == phone,
        )
        .scalar_subquery()
    )
