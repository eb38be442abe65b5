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
from contactlists.contacts import repository, upsert
from contactlists.contacts.normalise import MAX_CUSTOM_FIELDS, RowError
from contactlists.contacts.normalise import Contact as NormalisedContact
from contactlists.contacts.schemas import AddContactsRequest, OnDuplicate
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
    check_on_duplicate(target, body.onDuplicate)
    return await jobs.enqueue(
        session,
        caller,
        kind=ADD_CONTACTS,
        list_id=target.id,
        # Its presence also marks a job whose writes are recorded, so it can be undone.
        payload={"onDuplicate": body.onDuplicate},
        input_data=body.data,
        total=len(body.data),
    )


def check_on_duplicate(target: ContactList, on_duplicate: OnDuplicate) -> None:
    """``update`` needs rows to match contacts: a list that allows duplicates matches none."""
    if on_duplicate == "update" and target.allow_duplicates:
        raise ValidationFailed.field(
            "onDuplicate",
            f"contact list {target.name} allows duplicates, so no row matches a contact to "
            "update; set allowDuplicates to false first",
        )


@dataclass
class BatchOutcome:
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    unverified: int = 0  # of those inserted
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportRules:
    """How an import job treats a row that matches a contact of the list (by its dedupe key)."""

    job_id: str | None = None  # stamped on the contacts it writes, so it can be undone
    on_duplicate: OnDuplicate = "skip"


async def store_batch(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    list_id: str,
    results: Sequence[NormalisedContact | RowError],
    rules: ImportRules = ImportRules(),  # frozen: sharing the default is safe
) -> BatchOutcome | None:
    """Store one normalised batch into a live list; None when the list is gone.

    Rows that match a contact (a list without duplicates) are skipped as duplicates or, with
    ``update``, overwrite that contact's given fields, its values before kept for an undo.
    """
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
    updates: dict[int, NormalisedContact] = {}
    if not target.allow_duplicates:
        keep = _with_key(target.dedupe_key, keep, outcome)
        keep, updates = await upsert.match(session, target, keep, outcome, rules)
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
            "import_job_id": rules.job_id,
            "last_job_id": rules.job_id,
        }
        for index, contact in enumerate(keep, start=1)
    ]
    await repository.insert_many(session, rows)
    outcome.updated = await upsert.overwrite(session, target, updates, rules, now)
    await lists_repository.record_contacts_change(
        session,
        account_id=account_id,
        list_id=list_id,
        added=len(rows),
        last_position=target.last_position + len(rows),
        columns=merge_columns(target.columns, [*keep, *updates.values()]),
    )
    outcome.inserted = len(rows)
    outcome.unverified = sum(not contact.phone_verified for contact in keep)
    return outcome


def _with_key(
    dedupe_key: str, candidates: list[NormalisedContact], outcome: BatchOutcome
) -> list[NormalisedContact]:
    """A list matched by uniqueId refuses rows without one: they could match nothing, and two
    of them could not be told apart (a row error, ``required``)."""
    if dedupe_key != "uniqueId":
        return candidates
    kept = []
    for contact in candidates:
        if contact.unique_id is None:
            outcome.invalid += 1
            outcome.errors.append(
                RowError(
                    row=contact.row,
                    field="uniqueId",
                    code="required",
                    value="",
                    message="uniqueId is required: the list tells its contacts apart by it",
                )
            )
            continue
        kept.append(contact)
    return kept


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
