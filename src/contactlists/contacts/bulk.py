"""Bulk writes of contacts: queueing addContacts, and storing one normalised import batch.

Takes the session, never commits. A batch takes the list's row lock first, so concurrent
imports into one list are serialised and its count and positions stay exact.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.contacts import repository
from contactlists.contacts.normalise import MAX_CUSTOM_FIELDS, RowError
from contactlists.contacts.normalise import Contact as NormalisedContact
from contactlists.contacts.schemas import AddContactsRequest
from contactlists.contacts.service import merge_columns
from contactlists.errors import ValidationFailed
from contactlists.jobs import service as jobs
from contactlists.lists import repository as lists_repository
from contactlists.lists import service as lists
from contactlists.models.base import utcnow
from contactlists.models.jobs import Job
from contactlists.models.lists import ContactList

# A list's custom fields (its columns) are bounded as an item's are (Kore.ai's console allows 150).
MAX_LIST_COLUMNS = MAX_CUSTOM_FIELDS
ADD_CONTACTS = "add_contacts"
"""The kind of job an addContacts call queues (its handler: contactlists.imports.tasks)."""


def new_contact_ids(count: int) -> list[str]:
    """``count`` ids ``cc-<uuid4>``, from one read of the system's randomness.

    ``uuid.uuid4()`` per contact costs more than the rest of building its row.
    """
    blob = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, len(blob), 32):
        h = blob[start : start + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        ids.append(f"cc-{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return ids


async def add(
    session: AsyncSession, caller: Caller, body: AddContactsRequest, settings: Settings
) -> Job:
    """Queue the items of an addContacts call for import into the named list."""
    if len(body.data) > settings.max_batch:
        raise ValidationFailed.field(
            "data", f"data holds {len(body.data)} items; at most {settings.max_batch} are accepted"
        )
    target = await lists.find_by_name(
        session, caller, body.contact_list_name, default_region=settings.default_region
    )
    return await jobs.enqueue(
        session,
        caller,
        kind=ADD_CONTACTS,
        list_id=target.id,
        payload={},
        input_data=body.data,
        total=len(body.data),
    )


@dataclass
class BatchOutcome:
    inserted: int = 0
    duplicates: int = 0
    invalid: int = 0
    unverified: int = 0  # of those inserted
    errors: list[RowError] = field(default_factory=list)


async def store_batch(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    list_id: str,
    results: Sequence[NormalisedContact | RowError],
) -> BatchOutcome | None:
    """Store one normalised batch into a live list; None when the list is gone."""
    target = await lists_repository.lock_live(
        session, account_id=account_id, bot_id=bot_id, list_id=list_id
    )
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
    keep = _within_column_limit(target.columns, candidates, outcome)
    if not target.allow_duplicates:
        keep = await _without_duplicates(session, target, keep, outcome)
    now = utcnow()
    ids = new_contact_ids(len(keep))
    rows = [
        {
            "account_id": account_id,
            "list_id": list_id,
            "position": target.last_position + index,
            "id": ids[index - 1],
            "phone": contact.phone,
            "phone_verified": contact.phone_verified,
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
        columns=merge_columns(target.columns, keep),
    )
    outcome.inserted = len(rows)
    outcome.unverified = sum(not contact.phone_verified for contact in keep)
    return outcome


def _within_column_limit(
    columns: list[str], candidates: list[NormalisedContact], outcome: BatchOutcome
) -> list[NormalisedContact]:
    """Refuse, as row errors, the contacts whose new custom fields would take the list past
    ``MAX_LIST_COLUMNS`` columns: a list's columns are bounded like an item's fields, so its
    export and every page of its contacts stay bounded too."""
    known = dict.fromkeys(columns)
    kept = []
    for contact in candidates:
        new = [name for name in contact.fields if name not in known]
        if len(known) + len(new) > MAX_LIST_COLUMNS:
            outcome.invalid += 1
            outcome.errors.append(
                RowError(
                    row=contact.row,
                    field=new[0],
                    code="too_many_fields",
                    value=new[0],
                    message=f"The list has {len(known)} custom fields; at most "
                    f"{MAX_LIST_COLUMNS} are allowed.",
                )
            )
            continue
        known.update(dict.fromkeys(new))
        kept.append(contact)
    return kept


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
