"""All SQL for campaigns and their list references.

Every write that depends on a campaign's status is one conditional statement (``UPDATE …
WHERE status = … RETURNING``), so of two concurrent triggers only one can succeed, and on
SQLite a write transaction begins with its write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.campaigns import Campaign, CampaignList
from contactlists.models.lists import ContactList

ROLE_CONTACTS = "contacts"
ROLE_DNC = "dnc"


class NameTaken(Exception):
    """Another campaign of the same account and bot has this name (case-insensitively)."""


@dataclass
class References:
    """A campaign's lists as the wire shows them: current names, in the campaign's order."""

    contact_lists: list[str] = field(default_factory=list)
    dnc: dict[str, str] | None = None


def _owned(account_id: str, bot_id: str, campaign_id: str) -> list[ColumnElement[bool]]:
    return [
        Campaign.account_id == account_id,
        Campaign.bot_id == bot_id,
        Campaign.id == campaign_id,
    ]


async def insert_campaign(session: AsyncSession, campaign: Campaign) -> None:
    session.add(campaign)
    try:
        await session.flush()
    except IntegrityError:
        # The only constraint a fresh random id can hit is the name index.
        raise NameTaken() from None


async def get(
    session: AsyncSession, *, account_id: str, bot_id: str, campaign_id: str
) -> Campaign | None:
    return await session.scalar(select(Campaign).where(*_owned(account_id, bot_id, campaign_id)))


async def lock(
    session: AsyncSession, *, account_id: str, bot_id: str, campaign_id: str
) -> Campaign | None:
    """Take the campaign's row lock for this transaction.

    On SQLite a write, so the transaction holds the single writer's lock from its start. On
    PostgreSQL ``SELECT … FOR NO KEY UPDATE``, the lock such an ``UPDATE`` takes, without the
    new row version the ``UPDATE`` writes: admission takes this lock once per chunk, and every
    dialing record inserted checks its foreign key against this row.
    """
    if session.get_bind().dialect.name == "postgresql":
        locked = (
            select(Campaign)
            .where(*_owned(account_id, bot_id, campaign_id))
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return (await session.scalars(locked)).one_or_none()
    statement = (
        update(Campaign)
        .where(*_owned(account_id, bot_id, campaign_id))
        .values(status=Campaign.status)
        .returning(Campaign)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def update_campaign(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    campaign_id: str,
    values: dict[str, Any],
    expected_status: str | None = None,
) -> Campaign | None:
    """Set ``values``; None if the campaign is gone or (given ``expected_status``) moved on."""
    conditions = _owned(account_id, bot_id, campaign_id)
    if expected_status is not None:
        conditions.append(Campaign.status == expected_status)
    statement = (
        update(Campaign)
        .where(*conditions)
        .values(**values)
        .returning(Campaign)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    try:
        return (await session.scalars(statement)).one_or_none()
    except IntegrityError:
        raise NameTaken() from None


async def delete_campaign(session: AsyncSession, *, account_id: str, campaign_id: str) -> None:
    """Delete the campaign; its list references go with it (ON DELETE CASCADE)."""
    await session.execute(
        delete(Campaign).where(Campaign.account_id == account_id, Campaign.id == campaign_id)
    )


async def live_lists_named(
    session: AsyncSession, *, account_id: str, bot_id: str, lnames: Sequence[str]
) -> dict[str, ContactList]:
    """The caller's live lists whose casefolded name is among ``lnames``, by that name."""
    if not lnames:
        return {}
    found = await session.scalars(
        select(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.lname.in_(set(lnames)),
            ContactList.deleted_at.is_(None),
        )
    )
    return {contact_list.lname: contact_list for contact_list in found}


async def replace_references(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    contact_list_ids: Sequence[str],
    dnc_list_id: str | None,
) -> None:
    """Make the campaign reference exactly these lists (contact lists in their given order)."""
    await session.execute(
        delete(CampaignList).where(
            CampaignList.account_id == account_id, CampaignList.campaign_id == campaign_id
        )
    )
    rows: list[dict[str, Any]] = [
        {
            "account_id": account_id,
            "campaign_id": campaign_id,
            "list_id": list_id,
            "role": ROLE_CONTACTS,
            "ordinal": ordinal,
        }
        for ordinal, list_id in enumerate(contact_list_ids)
    ]
    if dnc_list_id is not None:
        rows.append(
            {
                "account_id": account_id,
                "campaign_id": campaign_id,
                "list_id": dnc_list_id,
                "role": ROLE_DNC,
                "ordinal": 0,
            }
        )
    await session.execute(insert(CampaignList), rows)


async def references(
    session: AsyncSession, *, account_id: str, campaign_ids: Sequence[str]
) -> dict[str, References]:
    """Each campaign's lists, by campaign id (every id given has an entry)."""
    found: dict[str, References] = {campaign_id: References() for campaign_id in campaign_ids}
    if not campaign_ids:
        return found
    rows = await session.execute(
        select(CampaignList.campaign_id, CampaignList.role, ContactList.id, ContactList.name)
        .join(
            ContactList,
            (ContactList.account_id == CampaignList.account_id)
            & (ContactList.id == CampaignList.list_id),
        )
        .where(CampaignList.account_id == account_id, CampaignList.campaign_id.in_(campaign_ids))
        .order_by(CampaignList.campaign_id, CampaignList.ordinal)
    )
    for campaign_id, role, list_id, name in rows:
        if role == ROLE_DNC:
            found[campaign_id].dnc = {"id": list_id, "name": name}
        else:
            found[campaign_id].contact_lists.append(name)
    return found


@dataclass(frozen=True)
class PageQuery:
    campaign_type: str
    statuses: Sequence[str] | None
    priorities: Sequence[str] | None
    dialing_modes: Sequence[str] | None
    created_from: datetime | None
    created_until: datetime | None
    sort_key: str  # name | createdAt | updatedAt
    descending: bool
    skip: int
    limit: int


SORT_COLUMNS = {
    "name": Campaign.lname,
    "createdAt": Campaign.created_at,
    "updatedAt": Campaign.updated_at,
}


def _filtered(query: Select[Any], account_id: str, bot_id: str, page: PageQuery) -> Select[Any]:
    query = query.where(
        Campaign.account_id == account_id,
        Campaign.bot_id == bot_id,
        Campaign.campaign_type == page.campaign_type,
    )
    if page.statuses is not None:
        query = query.where(Campaign.status.in_(page.statuses))
    if page.priorities is not None:
        query = query.where(Campaign.priority.in_(page.priorities))
    if page.dialing_modes is not None:
        query = query.where(Campaign.dialing_mode.in_(page.dialing_modes))
    if page.created_from is not None:
        query = query.where(Campaign.created_at >= page.created_from)
    if page.created_until is not None:
        query = query.where(Campaign.created_at <= page.created_until)
    return query


async def page(
    session: AsyncSession, *, account_id: str, bot_id: str, query: PageQuery
) -> tuple[Sequence[Campaign], int]:
    """One page of the bot's campaigns, and how many match in all."""
    column = SORT_COLUMNS[query.sort_key]
    ordered = _filtered(select(Campaign), account_id, bot_id, query).order_by(
        column.desc() if query.descending else column.asc(), Campaign.id
    )
    found = (await session.scalars(ordered.offset(query.skip).limit(query.limit))).all()
    total = await session.scalar(
        _filtered(select(func.count()).select_from(Campaign), account_id, bot_id, query)
    )
    return found, total or 0
