"""Contact-list rules (CONTRACT §3–4.5). Takes the session, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.errors import Conflict, DuplicateName, NotFound
from contactlists.jobs import repository as jobs_repository
from contactlists.lists import repository
from contactlists.lists.dnc import DEFAULT_DNC_NAME, ensure_default_dnc
from contactlists.lists.repository import ListFields, NameTaken
from contactlists.lists.schemas import ContactListCreate, ContactListUpdate, ListType
from contactlists.models import ContactList, utcnow

# Why an import into a deleted list ends (its job's error), whoever notices first.
LIST_DELETED = "the contact list was deleted"
MAPPED_FIELDS = ("firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority")
# Without a `type` filter, get-all shows contact lists and leaves DNC lists out.
DEFAULT_LIST_TYPES = ("call", "sms")


@dataclass(frozen=True)
class ListView:
    """A list with what is derived from elsewhere: whether an import is under way, and which
    campaigns use it (``campaignInUse``), both read live."""

    record: ListFields
    processing: bool = False
    campaigns: tuple[dict[str, str], ...] = ()

    @property
    def status(self) -> str:
        # Kore.ai's own values only: a list being imported into shows "Validating", as Kore.ai's
        # console shows a list whose file is being checked.
        return "Validating" if self.processing else "Ready"


async def views(session: AsyncSession, records: Sequence[ContactList]) -> list[ListView]:
    if not records:
        return []
    account_id = records[0].account_id
    list_ids = [record.id for record in records]
    busy = await jobs_repository.lists_with_active_jobs(session, account_id, list_ids)
    using = await repository.campaigns_using(session, account_id, list_ids)
    return [
        ListView(record, record.id in busy, tuple(using.get(record.id, ()))) for record in records
    ]


async def view(session: AsyncSession, record: ContactList) -> ListView:
    return (await views(session, [record]))[0]


@dataclass(frozen=True)
class Page:
    skip: int = 0
    limit: int | None = None


def not_found(list_id: str) -> NotFound:
    return NotFound(f"Contact list {list_id} was not found.")


def _taken(name: str) -> DuplicateName:
    return DuplicateName(f"A contact list named {name} already exists.")


def _refuse_reserved(name: str) -> None:
    """The Default Global DNC list's name belongs to it, whether it exists yet or not."""
    if name.casefold() == DEFAULT_DNC_NAME.casefold():
        raise DuplicateName(f"{DEFAULT_DNC_NAME} is the name of the bot's own DNC list.")


async def create(
    session: AsyncSession, caller: Caller, data: ContactListCreate, *, default_region: str
) -> ContactList:
    _refuse_reserved(data.name)
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
        # A DNC list never keeps a number twice (CONTRACT §8).
        allow_duplicates=data.allowDuplicates and data.listType != "dnc",
        default_region=data.defaultRegion or default_region,
        dedupe_key=data.dedupeKey,
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


async def _check_dedupe_key_change(
    session: AsyncSession, caller: Caller, list_id: str, dedupe_key: str
) -> None:
    """A list's dedupe key may change only while it has no contacts: its contacts were kept
    unique by the old key, and an import's matches must not depend on when it was changed.
    The list's lock is held to the commit, so no import batch lands between check and change.
    """
    target = await repository.lock_live(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if target is None:
        raise not_found(list_id)
    if target.dedupe_key != dedupe_key and target.total_record_count > 0:
        raise Conflict(
            f"The dedupe key of contact list {target.name} cannot change: the list has "
            f"{target.total_record_count} contacts."
        )


async def find_by_name(
    session: AsyncSession, caller: Caller, name: str, *, default_region: str
) -> ContactList:
    """The caller's live list of that name, compared case-insensitively (addContacts).

    The bot's Default Global DNC exists for every bot, so naming it is its first use.
    """
    if name.strip().casefold() == DEFAULT_DNC_NAME.casefold():
        await ensure_default_dnc(session, caller, default_region)
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
        raise not_found(list_id)
    return found


async def get_view(session: AsyncSession, caller: Caller, list_id: str) -> ListView:
    """A live list with its status and campaigns, read in one statement."""
    found = await repository.get_live_in_use(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if found is None:
        raise not_found(list_id)
    record, processing, campaigns = found
    return ListView(record, processing, tuple(campaigns))


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
        _refuse_reserved(data.name)
        values |= {"name": data.name, "lname": data.name.casefold()}
    if data.description is not None:
        values["description"] = data.description
    if data.allowDuplicates is not None:
        values["allow_duplicates"] = data.allowDuplicates
    if data.defaultRegion is not None:
        values["default_region"] = data.defaultRegion
    if data.dedupeKey is not None:
        await _check_dedupe_key_change(session, caller, list_id, data.dedupeKey)
        values["dedupe_key"] = data.dedupeKey
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
        raise not_found(list_id)
    return updated, given
