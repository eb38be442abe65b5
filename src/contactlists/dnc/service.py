"""DNC rules: an entry counts until its ``expiresAt``; a check answers in the order sent.

An entry is a contact of a DNC list, stored by the same intake paths as any contact; its
``expiresAt`` and ``reason`` are the contact's own fields. An ``expiresAt`` that is not an
ISO 8601 time never expires: reading a typo as "expired" would let a number be called.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.contacts import repository as contacts_repository
from contactlists.contacts.bulk import new_contact_ids
from contactlists.contacts.phones import PhoneError, read_number, to_e164
from contactlists.dnc import repository
from contactlists.dnc.repository import EXPIRES_AT, Entry
from contactlists.dnc.schemas import DncResult
from contactlists.lists import repository as lists_repository
from contactlists.models.base import utcnow
from contactlists.models.lists import ContactList

REASON = "reason"


def expires_at(entry: Entry) -> datetime | None:
    """When the entry stops counting; None for an entry that never expires."""
    text = entry.fields.get(EXPIRES_AT)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def counts(entry: Entry, now: datetime) -> bool:
    ends = expires_at(entry)
    return ends is None or ends > now


async def blocking(
    session: AsyncSession,
    *,
    account_id: str,
    lists: Sequence[ContactList],
    phones: Collection[str],
    now: datetime,
) -> dict[str, list[Entry]]:
    """For each of ``phones`` on one of ``lists`` now, the entries that hold it."""
    found: dict[str, list[Entry]] = {}
    for entry in await repository.entries(
        session, account_id=account_id, lists=lists, phones=phones
    ):
        if counts(entry, now):
            found.setdefault(entry.phone, []).append(entry)
    return found


async def check(
    session: AsyncSession,
    caller: Caller,
    numbers: Sequence[str],
    *,
    default_region: str,
    now: datetime,
) -> list[DncResult]:
    """Each number as sent, its E.164 form, and the bot's DNC lists holding it now."""
    readings: list[str | None] = []
    for number in numbers:
        try:
            readings.append(to_e164(number, default_region))
        except PhoneError:
            readings.append(None)
    lists = await repository.dnc_lists(session, account_id=caller.account_id, bot_id=caller.bot_id)
    held = await blocking(
        session,
        account_id=caller.account_id,
        lists=lists,
        phones={e164 for e164 in readings if e164 is not None},
        now=now,
    )
    results = []
    for number, e164 in zip(numbers, readings, strict=True):
        names = sorted({entry.list_name for entry in held.get(e164 or "", [])})
        results.append(DncResult(phoneNumber=number, e164=e164, dnc=bool(names), lists=names))
    return results


def _verified(e164: str) -> bool:
    """Whether a stored number (E.164, from a contact) is one libphonenumber knows as valid."""
    try:
        return read_number(e164, "US").verified  # the region reads no "+" number
    except PhoneError:
        return False


async def add_numbers(
    session: AsyncSession,
    *,
    caller: Caller,
    dnc_list: ContactList,
    phones: Collection[str],
    reason: str,
) -> int:
    """Put ``phones`` (E.164) on ``dnc_list`` unless already there; how many were added."""
    locked = await lists_repository.lock_live(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=dnc_list.id
    )
    if locked is None:
        return 0
    taken = await contacts_repository.existing_phones(
        session, account_id=caller.account_id, list_id=locked.id, phones=phones
    )
    fresh = sorted(set(phones) - taken)
    if not fresh:
        return 0
    now = utcnow()
    ids = new_contact_ids(len(fresh))
    rows = [
        {
            "account_id": caller.account_id,
            "list_id": locked.id,
            "position": locked.last_position + index,
            "id": ids[index - 1],
            "phone": phone,
            "phone_verified": _verified(phone),
            "first_name": None,
            "last_name": None,
            "time_zone": None,
            "unique_id": None,
            "contact_priority": None,
            "fields": {REASON: reason},
            "created_at": now,
            "updated_at": now,
        }
        for index, phone in enumerate(fresh, start=1)
    ]
    await contacts_repository.insert_many(session, rows)
    columns = locked.columns if REASON in locked.columns else [*locked.columns, REASON]
    await lists_repository.record_contacts_change(
        session,
        account_id=caller.account_id,
        list_id=locked.id,
        added=len(rows),
        last_position=locked.last_position + len(rows),
        columns=columns,
    )
    return len(rows)
