"""Contact rules: adding (queued as a job), storing a normalised batch, paging, single contacts.

Takes the session, never commits. Every change to a list's contacts first takes the
list's row lock (``lists.repository.lock_live``), so concurrent writers of one list are
serialised and its ``totalRecordCount`` always equals the rows a reader can see.
"""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.contacts import repository
from contactlists.contacts.models import Contact
from contactlists.contacts.normalise import Contact as NormalisedContact
from contactlists.contacts.normalise import RowError
from contactlists.contacts.schemas import AddContactsRequest, ContactOut, ContactsPage
from contactlists.db.base import utcnow
from contactlists.errors import ValidationFailed
from contactlists.jobs import service as jobs
from contactlists.jobs.models import Job
from contactlists.lists import repository as lists_repository
from contactlists.lists import service as lists
from contactlists.lists.models import ContactList

ADD_CONTACTS = "add_contacts"


async def add(
    session: AsyncSession, caller: Caller, body: AddContactsRequest, settings: Settings
) -> Job:
    """Queue the items of an addContacts call for import into the named list."""
    if len(body.data) > settings.max_batch:
        raise ValidationFailed.field(
            "data", f"data holds {len(body.data)} items; at most {settings.max_batch} are accepted"
        )
    target = await lists.find_by_name(session, caller, body.contact_list_name)
    return await jobs.enqueue(
        session,
        caller,
        kind=ADD_CONTACTS,
        list_id=target.id,
        payload={"items": body.data},
        total=len(body.data),
    )


@dataclass
class BatchOutcome:
    inserted: int = 0
    duplicates: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)


def _merge_columns(known: list[str], contacts: Sequence[NormalisedContact]) -> list[str] | None:
    """The list's columns with the batch's new custom fields appended; None when unchanged."""
    merged = dict.fromkeys(known)
    for contact in contacts:
        merged.update(dict.fromkeys(contact.fields))
    return list(merged) if len(merged) > len(known) else None


async def store_batch(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    results: Sequence[NormalisedContact | RowError],
) -> BatchOutcome | None:
    """Store one normalised batch into a live list; None when the list is gone."""
    target = await lists_repository.lock_live(session, account_id=account_id, list_id=list_id)
    if target is None:
        return None
    outcome = BatchOutcome()
    candidates: list[NormalisedContact] = []
    for result in results:
        if isinstance(result, RowError):
            outcome.invalid += 1
            outcome.errors.append(result)
        else:
            candidates.append(result)
    keep = candidates
    if not target.allow_duplicates:
        keep = await _without_duplicates(session, target, candidates, outcome)
    now = utcnow()
    rows = [
        {
            "account_id": account_id,
            "list_id": list_id,
            "position": target.last_position + index,
            "id": f"cc-{uuid.uuid4()}",
            "phone": contact.phone,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "time_zone": contact.time_zone,
            "unique_id": contact.unique_id,
            "contact_priority": contact.contact_priority,
            "fields": contact.fields,
            "created_at": now,
            "updated_at": now,
        }
        for index, contact in enumerate(keep, start=1)
    ]
    await repository.insert_many(session, rows)
    await lists_repository.record_contacts_change(
        session,
        account_id=account_id,
        list_id=list_id,
        added=len(rows),
        last_position=target.last_position + len(rows),
        columns=_merge_columns(target.columns, keep),
    )
    outcome.inserted = len(rows)
    return outcome


async def _without_duplicates(
    session: AsyncSession,
    target: ContactList,
    candidates: Sequence[NormalisedContact],
    outcome: BatchOutcome,
) -> list[NormalisedContact]:
    """Drop numbers already in the list or earlier in the batch, counting each as a duplicate."""
    seen = await repository.existing_phones(
        session,
        account_id=target.account_id,
        list_id=target.id,
        phones={contact.phone for contact in candidates},
    )
    keep: list[NormalisedContact] = []
    for contact in candidates:
        if contact.phone in seen:
            outcome.duplicates += 1
            outcome.errors.append(
                RowError(
                    row=contact.row,
                    field="phoneNumber",
                    code="duplicate",
                    value=contact.phone,
                    message=f"{contact.phone} is already in the list, which allows no duplicates",
                )
            )
            continue
        seen.add(contact.phone)
        keep.append(contact)
    return keep


# ---------------------------------------------------------------- reading


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("p") or not text[1:].isdigit():
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.field(
            "cursor", "cursor is not a cursor this service issued"
        ) from None


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        phoneNumber=contact.phone,
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
) -> ContactsPage:
    """A page of the list's contacts in insertion order, by offset or (in constant time) cursor."""
    target = await lists.get(session, caller, list_id)
    after = decode_cursor(cursor) if cursor is not None else None
    # One row more than asked tells whether another page follows, exactly.
    found = await repository.page(
        session,
        account_id=caller.account_id,
        list_id=target.id,
        after_position=after,
        skip=skip,
        limit=limit + 1,
    )
    has_more = len(found) > limit
    found = found[:limit]
    total = target.total_record_count
    return ContactsPage(
        results=[contact_out(contact) for contact in found],
        skip=0 if after is not None else skip,
        limit=limit,
        hasMore=has_more,
        totalPages=math.ceil(total / limit),
        totalResults=total,
        nextCursor=encode_cursor(found[-1].position) if has_more else None,
    )
