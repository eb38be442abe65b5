"""All SQL for contact lists.

Writes are single conditional statements (``UPDATE … WHERE deleted_at IS NULL
RETURNING``) so that concurrent requests cannot both act on one live list, and so
that on SQLite a write transaction begins with its write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Select, bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.base import utcnow
from contactlists.models.campaigns import Campaign, CampaignList
from contactlists.models.jobs import ACTIVE_STATES, Job
from contactlists.models.lists import ContactList


class ListFields(Protocol):
    """What rendering reads of a list: a :class:`ContactList`, or the plain row the list-details
    GET reads in one Core statement (no ORM object built, B4)."""

    @property
    def account_id(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def bot_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def lname(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def list_type(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def allow_duplicates(self) -> bool: ...
    @property
    def default_region(self) -> str: ...
    @property
    def dedupe_key(self) -> str: ...
    @property
    def mapping(self) -> dict[str, str]: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def files(self) -> list[dict[str, Any]]: ...
    @property
    def total_record_count(self) -> int: ...
    @property
    def is_global_dnc(self) -> bool: ...
    @property
    def is_default(self) -> bool: ...
    @property
    def org_id(self) -> str: ...
    @property
    def created_by(self) -> str: ...
    @property
    def updated_by(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class NameTaken(Exception):
    """Another live list of the same account and bot has this name (case-insensitively)."""


def live(account_id: str, bot_id: str, list_id: str) -> list[ColumnElement[bool]]:
    """The conditions that select one live list of a bot (every write of a live list has them)."""
    return [
        ContactList.account_id == account_id,
        ContactList.bot_id == bot_id,
        ContactList.id == list_id,
        ContactList.deleted_at.is_(None),
    ]


async def one_unless_name_taken(session: AsyncSession, statement: Any) -> ContactList | None:
    """The one list a conditional ``UPDATE … RETURNING`` changed, or None if none matched.

    Raises NameTaken when the change would give a live list a name another live list has.
    """
    try:
        return (await session.scalars(statement)).one_or_none()
    except IntegrityError:
        raise NameTaken() from None


async def insert(session: AsyncSession, contact_list: ContactList) -> None:
    session.add(contact_list)
    try:
        await session.flush()
    except IntegrityError:
        # The only constraint a fresh random id can hit is the live-name index.
        raise NameTaken() from None


async def get_live(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str
) -> ContactList | None:
    return await session.scalar(select(ContactList).where(*live(account_id, bot_id, list_id)))


def _live_in_use_statement() -> Select[Any]:
    busy = (
        exists()
        .where(
            Job.account_id == ContactList.account_id,
            Job.list_id == ContactList.id,
            # Not in_(ACTIVE_STATES): an IN list is re-rendered at every execution.
            or_(*(Job.state == state for state in ACTIVE_STATES)),
        )
        .label("busy")
    )
    # The table's columns, not the entity: a Core row, no ORM object to build and track.
    return (
        select(
            ContactList.__table__,
            busy,
            Campaign.id.label("campaign_id"),
            Campaign.name.label("campaign_name"),
        )
        .outerjoin(
            CampaignList,
            (CampaignList.account_id == ContactList.account_id)
            & (CampaignList.list_id == ContactList.id),
        )
        .outerjoin(
            Campaign,
            (Campaign.account_id == CampaignList.account_id)
            & (Campaign.id == CampaignList.campaign_id),
        )
        .where(
            ContactList.account_id == bindparam("account_id"),
            ContactList.bot_id == bindparam("bot_id"),
            ContactList.id == bindparam("list_id"),
            ContactList.deleted_at.is_(None),
        )
        .order_by(Campaign.created_at, Campaign.id)
    )


# Built once, with bound parameters: building it (and its cache key) at every request cost
# more than running it (B4).
_LIVE_IN_USE = _live_in_use_statement()


async def get_live_in_use(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str
) -> tuple[ListFields, bool, list[dict[str, str]]] | None:
    """A live list, whether a job for it is queued or running, and the campaigns that use it
    (oldest first): in one statement, as the list-details GET (B4) needs them.

    One row per campaign using the list (or one with no campaign): a list is used by few.
    """
    parameters = {"account_id": account_id, "bot_id": bot_id, "list_id": list_id}
    rows = (await session.execute(_LIVE_IN_USE, parameters)).all()
    if not rows:
        return None
    campaigns = [
        {"id": row.campaign_id, "name": row.campaign_name}
        for row in rows
        if row.campaign_id is not None
    ]
    # A row has each column of contact_list as an attribute of the same name.
    return cast(ListFields, rows[0]), bool(rows[0].busy), campaigns


async def list_live(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    list_types: Sequence[str],
    search: str | None,
    skip: int,
    limit: int | None,
) -> Sequence[ContactList]:
    query = (
        select(ContactList)
        .where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.deleted_at.is_(None),
            ContactList.list_type.in_(list_types),
        )
        .order_by(ContactList.updated_at.desc(), ContactList.id)
        .offset(skip)
        .limit(limit)
    )
    if search:
        query = query.where(ContactList.lname.contains(search.casefold(), autoescape=True))
    return (await session.scalars(query)).all()


async def update_live(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str, values: dict[str, Any]
) -> ContactList | None:
    statement = (
        update(ContactList)
        .where(*live(account_id, bot_id, list_id))
        .values(**values)
        .returning(ContactList)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return await one_unless_name_taken(session, statement)


async def find_live_by_name(
    session: AsyncSession, *, account_id: str, bot_id: str, name: str
) -> ContactList | None:
    return await session.scalar(
        select(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.lname == name.strip().casefold(),
            ContactList.deleted_at.is_(None),
        )
    )


async def lock_live(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str
) -> ContactList | None:
    """Take the live list's row lock for this transaction (a write, so it comes first on SQLite).

    Writers of one list's contacts serialise here, which keeps its count and positions exact.
    """
    statement = (
        update(ContactList)
        .where(*live(account_id, bot_id, list_id))
        .values(last_position=ContactList.last_position)
        .returning(ContactList)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def record_contacts_change(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    added: int,
    last_position: int | None = None,
    columns: list[str] | None = None,
) -> None:
    """Apply a change of the list's contacts to its count, positions and columns, in one go."""
    values: dict[str, Any] = {
        "total_record_count": ContactList.total_record_count + added,
        "updated_at": utcnow(),
    }
    if last_position is not None:
        values["last_position"] = last_position
    if columns is not None:
        values["columns"] = columns
    await session.execute(
        update(ContactList)
        .where(ContactList.account_id == account_id, ContactList.id == list_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def record_upload(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    list_id: str,
    file: dict[str, str],
    mapping: dict[str, str],
) -> None:
    """Add an uploaded file to the list's ``files`` and show the upload's column mapping."""
    target = await lock_live(session, account_id=account_id, bot_id=bot_id, list_id=list_id)
    if target is None:
        return
    await session.execute(
        update(ContactList)
        .where(ContactList.account_id == account_id, ContactList.id == list_id)
        .values(files=[*target.files, file], mapping=mapping, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def campaigns_using(
    session: AsyncSession, account_id: str, list_ids: Sequence[str]
) -> dict[str, list[dict[str, str]]]:
    """For each list, the campaigns that reference it (``campaignInUse``), oldest first."""
    if not list_ids:
        return {}
    rows = await session.execute(
        select(CampaignList.list_id, Campaign.id, Campaign.name)
        .join(
            Campaign,
            (Campaign.account_id == CampaignList.account_id)
            & (Campaign.id == CampaignList.campaign_id),
        )
        .where(CampaignList.account_id == account_id, CampaignList.list_id.in_(list_ids))
        .order_by(Campaign.created_at, Campaign.id)
    )
    using: dict[str, list[dict[str, str]]] = {}
    for list_id, campaign_id, name in rows:
        using.setdefault(list_id, []).append({"id": campaign_id, "name": name})
    return using
