"""Contact-list rules (CONTRACT §3–4.5). Takes the session, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.db.base import utcnow
from contactlists.errors import DuplicateName, NotFound
from contactlists.jobs import repository as jobs_repository
from contactlists.lists import repository
from contactlists.lists.models import ContactList
from contactlists.lists.repository import NameTaken
from contactlists.lists.schemas import ContactListCreate, ContactListUpdate, ListType

MAPPED_FIELDS = ("firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority")
# Without a `type` filter, get-all shows contact lists and leaves DNC lists out.
DEFAULT_LIST_TYPES = ("call", "sms")


@dataclass(frozen=True)
class ListView:
    """A list with what is derived from elsewhere: whether an import is under way."""

    record: ContactList
    processing: bool = False

    @property
    def status(self) -> str:
        return "Processing" if self.processing else "Ready"


async def views(session: AsyncSession, records: Sequence[ContactList]) -> list[ListView]:
    if not records:
        return []
    busy = await jobs_repository.lists_with_active_jobs(
        session, records[0].account_id, [record.id for record in records]
    )
    return [ListView(record, record.id in busy) for record in records]


async def view(session: AsyncSession, record: ContactList) -> ListView:
    return (await views(session, [record]))[0]


@dataclass(frozen=True)
class Page:
    skip: int = 0
    limit: int | None = None


def _not_found(list_id: str) -> NotFound:
    return NotFound(f"Contact list {list_id} was not found.")


def _taken(name: str) -> DuplicateName:
    return DuplicateName(f"A contact list named {name} already exists.")


async def create(
    session: AsyncSession, caller: Caller, data: ContactListCreate, *, default_region: str
) -> ContactList:
    now = utcnow()
    contact_list = ContactList(
        account_id=caller.account_id,
        id=f"cl-{uuid.uuid4()}",
        bot_id=caller.bot_id,
        name=data.name,
        lname=data.name.casefold(),
        description=data.description,
        list_type=data.listType,
        source=data.source,
        allow_duplicates=data.allowDuplicates,
        default_region=data.defaultRegion or default_region,
        mapping={field: field for field in MAPPED_FIELDS},
        columns=[],
        files=[],
        total_record_count=0,
        last_position=0,
        is_global_dnc=False,
        is_default=False,
        org_id=caller.org_id,
        created_by=caller.actor,
        updated_by=caller.actor,
        created_at=now,
        updated_at=now,
        deleted_at=None,
    )
    try:
        await repository.insert(session, contact_list)
    except NameTaken:
        raise _taken(data.name) from None
    return contact_list


async def find_by_name(session: AsyncSession, caller: Caller, name: str) -> ContactList:
    """The caller's live list of that name, compared case-insensitively (addContacts)."""
    found = await repository.find_live_by_name(
        session, account_id=caller.account_id, bot_id=caller.bot_id, name=name
    )
    if found is None:
        raise NotFound(f"Contact list {name} was not found.")
    return found


async def get(session: AsyncSession, caller: Caller, list_id: str) -> ContactList:
    found = await repository.get_live(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if found is None:
        raise _not_found(list_id)
    return found


async def list_all(
    session: AsyncSession,
    caller: Caller,
    *,
    list_type: ListType | None,
    search: str | None,
    page: Page,
) -> Sequence[ContactList]:
    return await repository.list_live(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        list_types=(list_type,) if list_type else DEFAULT_LIST_TYPES,
        search=search,
        skip=page.skip,
        limit=page.limit,
    )


async def update(
    session: AsyncSession, caller: Caller, list_id: str, data: ContactListUpdate
) -> tuple[ContactList, dict[str, Any]]:
    """Apply the fields given; the list after the change and the fields that were set."""
    given = data.model_dump(exclude_none=True)
    if not given:
        return await get(session, caller, list_id), {}
    values: dict[str, Any] = {"updated_at": utcnow(), "updated_by": caller.actor}
    if data.name is not None:
        values |= {"name": data.name, "lname": data.name.casefold()}
    if data.description is not None:
        values["description"] = data.description
    if data.allowDuplicates is not None:
        values["allow_duplicates"] = data.allowDuplicates
    if data.defaultRegion is not None:
        values["default_region"] = data.defaultRegion
    try:
        updated = await repository.update_live(
            session,
            account_id=caller.account_id,
            bot_id=caller.bot_id,
            list_id=list_id,
            values=values,
        )
    except NameTaken:
        raise _taken(data.name or "") from None
    if updated is None:
        raise _not_found(list_id)
    return updated, given


async def delete(session: AsyncSession, caller: Caller, list_id: str) -> ContactList:
    """Delete the list in one short statement; returns the list as it was.

    The name is free and the list invisible as soon as this commits, however many
    contacts it holds.
    """
    deleted = await repository.mark_deleted(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if deleted is None:
        raise _not_found(list_id)
    return deleted
