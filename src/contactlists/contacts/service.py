"""Contact rules: paging, and reading, changing and deleting single contacts.

Takes the session, never commits. Every change to a list's contacts first takes the
list's row lock (``lists.repository.lock_live``), so concurrent writers of one list are
serialised and its ``totalRecordCount`` always equals the rows a reader can see.
Bulk writes (addContacts, import batches) are in ``bulk.py``.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.contacts import repository
from contactlists.contacts.normalise import KNOWN_FIELDS, RowError, normalise_item
from contactlists.contacts.normalise import Contact as NormalisedContact
from contactlists.contacts.phones import time_zone_of
from contactlists.contacts.schemas import (
    ContactOut,
    ContactsDeleted,
    ContactsPage,
    TimeZoneCount,
)
from contactlists.contacts.search import Filters, RawFilters, read_filters
from contactlists.errors import DuplicateName, NotFound, ValidationFailed
from contactlists.lists import repository as lists_repository
from contactlists.lists import service as lists
from contactlists.models.base import utcnow
from contactlists.models.contacts import Contact
from contactlists.models.lists import ContactList
from contactlists.wire import CONTACT_ID_PATTERN

MAX_POSITION = 2**63 - 1
# What a contact id can look like (ours are cc-<uuid>); anything else is not looked up.
CONTACT_ID = re.compile(CONTACT_ID_PATTERN)


def merge_columns(known: list[str], contacts: Sequence[NormalisedContact]) -> list[str] | None:
    """The list's columns with the batch's new custom fields appended; None when unchanged."""
    merged = dict.fromkeys(known)
    for contact in contacts:
        merged.update(dict.fromkeys(contact.fields))
    return list(merged) if len(merged) > len(known) else None


# ---------------------------------------------------------------- reading


# ASCII digits only: int() reads other scripts' digits too.
_CURSOR = re.compile(r"p(?P<position>[0-9]{1,20})(?:f(?P<filters>[0-9a-f]{12}))?")


def encode_cursor(position: int, filters: Filters | None = None) -> str:
    """An opaque cursor: the last position read and, under filters, their fingerprint."""
    mark = f"f{filters.fingerprint()}" if filters else ""
    return base64.urlsafe_b64encode(f"p{position}{mark}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: Filters | None = None) -> int:
    """The position after which the page starts; a 400 for a cursor not issued under the same
    filters (its position would skip or repeat contacts under others)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = _CURSOR.fullmatch(text)
        if parts is None:
            raise ValueError(text)
        position = int(parts["position"])
        # Positions are 64-bit integers in both databases; a larger one cannot be bound.
        if position > MAX_POSITION:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.field(
            "cursor", "cursor is not a cursor this service issued"
        ) from None
    if (parts["filters"] or "") != (filters.fingerprint() if filters else ""):
        raise ValidationFailed.field(
            "cursor",
            "cursor was issued for other filters; give the same filters, or start again "
            "without a cursor",
        )
    return position


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        phoneNumber=contact.phone,
        phoneVerified=contact.phone_verified,
        firstName=contact.first_name,
        lastName=contact.last_name,
        timeZone=contact.time_zone,
        uniqueId=contact.unique_id,
        contactPriority=contact.contact_priority,
        fields=contact.fields,
        createdAt=contact.created_at,
        updatedAt=contact.updated_at,
    )


async def page(
    session: AsyncSession,
    caller: Caller,
    list_id: str,
    *,
    skip: int,
    limit: int,
    cursor: str | None,
    raw_filters: RawFilters | None = None,
) -> ContactsPage:
    """A page of the list's contacts in insertion order, by offset or (in constant time) cursor,
    of those that pass the filters (contacts.search)."""
    target = await lists.get(session, caller, list_id)
    filters = read_filters(raw_filters or RawFilters(), target.default_region)
    after = decode_cursor(cursor, filters) if cursor is not None else None
    # One row more than asked tells whether another page follows, exactly.
    found = await repository.page(
        session,
        account_id=caller.account_id,
        list_id=target.id,
        after_position=after,
        skip=skip,
        limit=limit + 1,
        filters=filters,
    )
    has_more = len(found) > limit
    found = found[:limit]
    # Under filters the matches are not counted: that would read every one of them, on every
    # page, which is what the cursor spares.
    total = None if filters else target.total_record_count
    return ContactsPage(
        results=[contact_out(contact) for contact in found],
        skip=0 if after is not None else skip,
        limit=limit,
        hasMore=has_more,
        totalPages=None if total is None else math.ceil(total / limit),
        totalResults=total,
        nextCursor=encode_cursor(found[-1].position, filters) if has_more else None,
    )


# More than the IANA database has zones, and a bound on the answer.
TIME_ZONES_MAX = 1000


async def time_zones(session: AsyncSession, caller: Caller, list_id: str) -> list[TimeZoneCount]:
    """The list's contacts counted by time zone, the largest first."""
    target = await lists.get(session, caller, list_id)
    counts = await repository.time_zone_counts(
        session, account_id=caller.account_id, list_id=target.id, limit=TIME_ZONES_MAX
    )
    return [TimeZoneCount(timeZone=zone, count=number) for zone, number in counts]


# ---------------------------------------------------------------- single contacts


async def _lock_list(session: AsyncSession, caller: Caller, list_id: str) -> ContactList:
    """The caller's live list, its row lock taken first (a write, which matters on SQLite)."""
    target = await lists_repository.lock_live(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if target is None:
        raise NotFound(f"Contact list {list_id} was not found.")
    return target


def _contact_not_found(contact_id: str) -> NotFound:
    return NotFound(f"Contact {contact_id} was not found.")


async def get_one(session: AsyncSession, caller: Caller, list_id: str, contact_id: str) -> Contact:
    target = await lists.get(session, caller, list_id)
    found = await repository.get(
        session, account_id=caller.account_id, list_id=target.id, contact_id=contact_id
    )
    if found is None:
        raise _contact_not_found(contact_id)
    return found


def _merged_item(current: Contact, changes: Mapping[str, object]) -> dict[str, object]:
    """The stored contact as an addContacts item, with ``changes`` applied."""
    item: dict[str, object] = {
        "phoneNumber": current.phone,
        "firstName": current.first_name,
        "lastName": current.last_name,
        "timeZone": current.time_zone,
        "uniqueId": current.unique_id,
        "contactPriority": current.contact_priority,
        **current.fields,
    }
    if (
        "phoneNumber" in changes
        and "timeZone" not in changes
        and current.time_zone == time_zone_of(current.phone)
    ):
        item["timeZone"] = None  # a zone derived from the old number is derived from the new one
    for name, value in changes.items():
        if value is None and name not in KNOWN_FIELDS:
            item.pop(name, None)
        else:
            item[name] = value
    return item


def _stored_values(contact: NormalisedContact) -> dict[str, object]:
    return {
        "phone": contact.phone,
        "phone_verified": contact.phone_verified,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "time_zone": contact.time_zone,
        "unique_id": contact.unique_id,
        "contact_priority": contact.contact_priority,
        "fields": contact.fields,
    }


async def _refuse_taken_unique_id(
    session: AsyncSession, target: ContactList, current: Contact, result: NormalisedContact
) -> None:
    """A list without duplicates keyed by uniqueId keeps each contact's uniqueId its own (the
    number may repeat there), and a contact without one could not be told apart."""
    if target.allow_duplicates or target.dedupe_key != "uniqueId":
        return
    if result.unique_id is None:
        raise ValidationFailed.field(
            "uniqueId", "uniqueId is required: the list tells its contacts apart by it"
        )
    if result.unique_id != current.unique_id and await repository.key_taken(
        session,
        account_id=target.account_id,
        list_id=target.id,
        key="uniqueId",
        value=result.unique_id,
        other_than=current.id,
    ):
        raise DuplicateName(
            f"uniqueId {result.unique_id} is already in the list, which allows no duplicates."
        )


async def update_one(
    session: AsyncSession,
    caller: Caller,
    list_id: str,
    contact_id: str,
    changes: Mapping[str, object],
) -> Contact:
    """Apply ``changes`` to a contact and check it as addContacts would; the contact after.

    A change that leaves the contact as it was writes nothing. With ``dontAllowDuplicates`` a
    new number must not be another contact's; new custom fields join the list's columns.
    """
    target = await _lock_list(session, caller, list_id)
    current = await repository.get(
        session, account_id=caller.account_id, list_id=list_id, contact_id=contact_id
    )
    if current is None:
        raise _contact_not_found(contact_id)
    result = normalise_item(1, _merged_item(current, changes), target.default_region)
    if isinstance(result, RowError):
        raise ValidationFailed.field(result.field, result.message)
    values = _stored_values(result)
    if all(getattr(current, name) == value for name, value in values.items()):
        return current
    await _refuse_taken_unique_id(session, target, current, result)
    if (
        not target.allow_duplicates
        and target.dedupe_key == "phoneNumber"
        and result.phone != current.phone
        and await repository.phone_taken(
            session,
            account_id=caller.account_id,
            list_id=list_id,
            phone=result.phone,
            other_than=contact_id,
        )
    ):
        raise DuplicateName(f"{result.phone} is already in the list, which allows no duplicates.")
    updated = await repository.update_one(
        session,
        account_id=caller.account_id,
        list_id=list_id,
        contact_id=contact_id,
        # Edited by hand: no longer any import's to undo.
        values={**values, "updated_at": utcnow(), "last_job_id": None},
    )
    if updated is None:  # not reachable while the list's lock is held
        raise _contact_not_found(contact_id)
    columns = merge_columns(target.columns, [result])
    if columns is not None:
        await lists_repository.record_contacts_change(
            session, account_id=caller.account_id, list_id=list_id, added=0, columns=columns
        )
    return updated


async def delete_one(
    session: AsyncSession, caller: Caller, list_id: str, contact_id: str
) -> Contact:
    """Delete a contact and count it out of the list in one transaction; the contact as it was."""
    await _lock_list(session, caller, list_id)
    deleted = await repository.delete_one(
        session, account_id=caller.account_id, list_id=list_id, contact_id=contact_id
    )
    if deleted is None:
        raise _contact_not_found(contact_id)
    await lists_repository.record_contacts_change(
        session, account_id=caller.account_id, list_id=list_id, added=-1
    )
    return deleted


async def delete_many(
    session: AsyncSession, caller: Caller, list_id: str, ids: Sequence[str]
) -> ContactsDeleted:
    """Delete the list's contacts among ``ids`` (a repeated id counts once); the rest are named."""
    await _lock_list(session, caller, list_id)
    wanted = list(dict.fromkeys(ids))
    deleted = await repository.delete_by_ids(
        session,
        account_id=caller.account_id,
        list_id=list_id,
        contact_ids=[i for i in wanted if CONTACT_ID.fullmatch(i)],
    )
    if deleted:
        await lists_repository.record_contacts_change(
            session, account_id=caller.account_id, list_id=list_id, added=-len(deleted)
        )
    return ContactsDeleted(deleted=len(deleted), notFound=[i for i in wanted if i not in deleted])
