"""Rows of an import that match a contact of the list: skipped, or overwriting it (upsert).

A list that allows no duplicates matches rows to contacts by its dedupe key (the number, or
the uniqueId). With ``onDuplicate: skip`` a matched row is a duplicate, as always. With
``update`` it overwrites the matched contact's given fields (a field the row leaves out or
empty keeps its value; custom fields are merged), and the contact's values before are kept in
``contact_prior``, written in the same transaction, so the import can be undone.

Within one import the first row for a key wins: a later row for the same key, in this batch or
a later one, is a duplicate. A contact the job already wrote carries the job's id
(``last_job_id``), which is how a later batch knows; so a batch replayed after a crash (its
transaction was rolled back whole) decides exactly as the first time.

Takes the session, never commits; the caller holds the list's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.contacts import repository
from contactlists.contacts.normalise import Contact as NormalisedContact
from contactlists.contacts.normalise import RowError
from contactlists.models.lists import ContactList

if TYPE_CHECKING:
    from contactlists.contacts.bulk import BatchOutcome, ImportRules

# The known fields a row may leave out (None), keeping the contact's stored value.
_OPTIONAL = ("first_name", "last_name", "time_zone", "unique_id", "contact_priority")


def key_of(contact: NormalisedContact, dedupe_key: str) -> str:
    """The value a contact is matched by (a uniqueId list has refused rows without one)."""
    if dedupe_key == "uniqueId":
        assert contact.unique_id is not None
        return contact.unique_id
    return contact.phone


async def match(
    session: AsyncSession,
    target: ContactList,
    candidates: Sequence[NormalisedContact],
    outcome: BatchOutcome,
    rules: ImportRules,
) -> tuple[list[NormalisedContact], dict[int, NormalisedContact]]:
    """The rows to insert, and the rows that update a contact (by its position); every other
    row is counted a duplicate, with its row error."""
    dedupe_key = target.dedupe_key
    found = await repository.matches_by_key(
        session,
        account_id=target.account_id,
        list_id=target.id,
        key=dedupe_key,
        values={key_of(contact, dedupe_key) for contact in candidates},
    )
    updating = rules.on_duplicate == "update" and rules.job_id is not None
    written = await _written_by_job(session, target, found.values(), rules) if updating else set()
    seen: set[str] = set()
    inserts: list[NormalisedContact] = []
    updates: dict[int, NormalisedContact] = {}
    for contact in candidates:
        key = key_of(contact, dedupe_key)
        matched = found.get(key)
        if updating:
            # Written by this job already: an earlier row of the import matched it first.
            duplicate = key in seen or (matched is not None and matched.position in written)
        else:
            duplicate = key in seen or matched is not None
        if duplicate:
            outcome.duplicates += 1
            outcome.errors.append(_duplicate(contact, dedupe_key, key, updating=updating))
            continue
        seen.add(key)
        if matched is None:
            inserts.append(contact)
        else:
            updates[matched.position] = contact
    return inserts, updates


async def _written_by_job(
    session: AsyncSession,
    target: ContactList,
    matches: Iterable[repository.Match],
    rules: ImportRules,
) -> set[int]:
    """The matched contacts this job already inserted or updated: their stamps say so, and,
    for one another import wrote since (at the same time, between two of its batches), the
    job's record of its prior values does."""
    assert rules.job_id is not None
    found = list(matches)
    written = {m.position for m in found if rules.job_id in (m.last_job_id, m.import_job_id)}
    written |= await repository.prior_positions(
        session,
        account_id=target.account_id,
        job_id=rules.job_id,
        positions=[m.position for m in found if m.position not in written],
    )
    return written


def _duplicate(
    contact: NormalisedContact, dedupe_key: str, key: str, *, updating: bool
) -> RowError:
    if updating:
        message = f"{key} is in an earlier row of this import, which wins"
    else:
        message = f"{key} is already in the list, which allows no duplicates"
    return RowError(row=contact.row, field=dedupe_key, code="duplicate", value=key, message=message)


async def overwrite(
    session: AsyncSession,
    target: ContactList,
    updates: dict[int, NormalisedContact],
    rules: ImportRules,
    now: datetime,
) -> int:
    """Overwrite the matched contacts with their rows, first keeping what they held; how many."""
    if not updates:
        return 0
    current = await repository.at_positions(
        session, account_id=target.account_id, list_id=target.id, positions=updates.keys()
    )
    priors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for position, contact in sorted(updates.items()):
        old = current[position]  # the list's lock is held: no contact went meanwhile
        key = {"account_id": target.account_id, "list_id": target.id, "position": position}
        priors.append(
            {**key, "job_id": rules.job_id}
            | {name: getattr(old, name) for name in repository.PRIOR_COLUMNS}
        )
        given = {name: getattr(contact, name) for name in _OPTIONAL}
        rows.append(
            {
                **key,
                "phone": contact.phone,
                "phone_verified": contact.phone_verified,
                **{
                    name: getattr(old, name) if value is None else value
                    for name, value in given.items()
                },
                "fields": {**old.fields, **contact.fields},
                "updated_at": now,
                "last_job_id": rules.job_id,
            }
        )
    await repository.add_priors(session, priors)
    await repository.update_by_position(session, rows)
    return len(rows)
