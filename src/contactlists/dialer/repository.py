"""All SQL of the dialer: admission, the sweep, the pick, leases, outcomes and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.campaigns import repository as campaigns
from contactlists.models.campaigns import Campaign, CampaignList
from contactlists.models.contacts import Contact
from contactlists.models.dialing import (
    LEASED,
    READY,
    RETURNING,
    DialingAdmission,
    DialingLease,
    DialingRecord,
)
from contactlists.models.lists import ContactList

# Contacts admitted per statement; bound parameters stay well under both databases' limits.
ADMIT_CHUNK = 2_000
# Rows returned to ready per statement; the rest wait for the next call.
SWEEP_CHUNK = 10_000


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def campaign(
    session: AsyncSession, *, account_id: str, bot_id: str, campaign_id: str
) -> Campaign | None:
    """The campaign; on SQLite through a write, so the dialer's transaction writes first.

    SQLite's single writer is how pickers are serialised there: a transaction that read before
    it wrote could not write once another picker had committed.
    """
    if _postgres(session):
        return await campaigns.get(
            session, account_id=account_id, bot_id=bot_id, campaign_id=campaign_id
        )
    return await campaigns.lock(
        session, account_id=account_id, bot_id=bot_id, campaign_id=campaign_id
    )


@dataclass(frozen=True)
class CampaignLists:
    contacts: list[ContactList]
    dnc: list[ContactList]


async def lists_of(session: AsyncSession, *, account_id: str, campaign_id: str) -> CampaignLists:
    """The campaign's live lists: its contact lists in its order, and its DNC list."""
    rows = await session.execute(
        select(CampaignList.role, ContactList)
        .join(
            ContactList,
            (ContactList.account_id == CampaignList.account_id)
            & (ContactList.id == CampaignList.list_id),
        )
        .where(
            CampaignList.account_id == account_id,
            CampaignList.campaign_id == campaign_id,
            ContactList.deleted_at.is_(None),
        )
        .order_by(CampaignList.ordinal)
    )
    found = CampaignLists([], [])
    for role, contact_list in rows:
        (found.dnc if role == campaigns.ROLE_DNC else found.contacts).append(contact_list)
    return found


# ---------------------------------------------------------------- admission


async def admitted(
    session: AsyncSession, *, account_id: str, campaign_id: str
) -> dict[str, DialingAdmission]:
    rows = await session.scalars(
        select(DialingAdmission).where(
            DialingAdmission.account_id == account_id,
            DialingAdmission.campaign_id == campaign_id,
        )
    )
    return {row.list_id: row for row in rows}


async def contacts_after(
    session: AsyncSession, *, account_id: str, list_id: str, position: int, limit: int
) -> Sequence[Any]:
    """The list's contacts past ``position``, in position order (the contact's primary key)."""
    rows = await session.execute(
        select(
            Contact.position,
            Contact.id,
            Contact.phone,
            Contact.time_zone,
            Contact.contact_priority,
            Contact.created_at,
        )
        .where(
            Contact.account_id == account_id,
            Contact.list_id == list_id,
            Contact.position > position,
        )
        .order_by(Contact.position)
        .limit(limit)
    )
    return rows.all()


def _insert(session: AsyncSession) -> Any:
    return postgresql_insert if _postgres(session) else sqlite_insert


async def insert_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New records; one another dialer admitted meanwhile is left as it is."""
    if rows:
        await session.execute(_insert(session)(DialingRecord).on_conflict_do_nothing(), list(rows))


async def set_admitted(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_id: str,
    position: int,
    lifo: bool,
) -> None:
    insert = _insert(session)(DialingAdmission).values(
        account_id=account_id,
        campaign_id=campaign_id,
        list_id=list_id,
        position=position,
        lifo=lifo,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["account_id", "campaign_id", "list_id"],
            set_={"position": func.max(DialingAdmission.position, insert.excluded.position)}
            if not _postgres(session)
            else {"position": func.greatest(DialingAdmission.position, insert.excluded.position)},
        )
    )


# ---------------------------------------------------------------- waits ending, the pick


def _campaign_rows(account_id: str, campaign_id: str) -> list[Any]:
    return [DialingRecord.account_id == account_id, DialingRecord.campaign_id == campaign_id]


async def sweep(session: AsyncSession, *, account_id: str, campaign_id: str, now: datetime) -> int:
    """Return the rows whose wait is over to ``ready`` (a lease that ran out counts no attempt)."""
    due = (
        select(DialingRecord.list_id, DialingRecord.position)
        .where(
            *_campaign_rows(account_id, campaign_id),
            DialingRecord.state.in_(RETURNING),
            DialingRecord.due_at <= now,
        )
        .limit(SWEEP_CHUNK)
    )
    if _postgres(session):
        due = due.with_for_update(skip_locked=True)
    result = await session.execute(
        update(DialingRecord)
        .where(
            *_campaign_rows(account_id, campaign_id),
            tuple_(DialingRecord.list_id, DialingRecord.position).in_(due),
        )
        .values(state=READY, due_at=None, lease_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Candidate:
    record: DialingRecord
    contact: Contact


async def candidates(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_ids: Sequence[str],
    limit: int,
) -> list[Candidate]:
    """Up to ``limit`` ready records in the contract's order, with their contacts, locked.

    PostgreSQL skips rows another picker holds; SQLite has one writer, so nobody else holds any.
    """
    if not list_ids:
        return []
    statement = (
        select(DialingRecord, Contact)
        .join(
            Contact,
            and_(
                Contact.account_id == DialingRecord.account_id,
                Contact.list_id == DialingRecord.list_id,
                Contact.position == DialingRecord.position,
            ),
        )
        .where(
            *_campaign_rows(account_id, campaign_id),
            DialingRecord.state == READY,
            DialingRecord.list_id.in_(list_ids),
        )
        .order_by(
            DialingRecord.rank,
            DialingRecord.priority,
            DialingRecord.seq,
            DialingRecord.list_id,
            DialingRecord.position,
        )
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if _postgres(session):
        statement = statement.with_for_update(skip_locked=True, of=DialingRecord)
    rows = await session.execute(statement)
    return [Candidate(record, contact) for record, contact in rows]


async def update_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row's new values, by primary key (the rows are locked by this transaction)."""
    if rows:
        await session.execute(
            update(DialingRecord).execution_options(synchronize_session=False), list(rows)
        )


async def insert_leases(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_insert(session)(DialingLease), list(rows))


# ---------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class LeaseFound:
    lease: DialingLease
    record: DialingRecord | None
    reachable: bool  # the list is live and attached and the contact still exists


async def leases(
    session: AsyncSession, *, account_id: str, campaign_id: str, lease_ids: Sequence[str]
) -> dict[str, LeaseFound]:
    """The campaign's leases of those ids, each with its record and whether it is reachable."""
    if not lease_ids:
        return {}
    live_list = (
        select(ContactList.id)
        .join(
            CampaignList,
            (CampaignList.account_id == ContactList.account_id)
            & (CampaignList.list_id == ContactList.id),
        )
        .where(
            ContactList.account_id == account_id,
            ContactList.id == DialingLease.list_id,
            ContactList.deleted_at.is_(None),
            CampaignList.campaign_id == campaign_id,
        )
        .exists()
    )
    contact_exists = (
        select(Contact.position)
        .where(
            Contact.account_id == account_id,
            Contact.list_id == DialingLease.list_id,
            Contact.position == DialingLease.position,
        )
        .exists()
    )
    rows = await session.execute(
        select(DialingLease, DialingRecord, and_(live_list, contact_exists))
        .outerjoin(
            DialingRecord,
            and_(
                DialingRecord.account_id == DialingLease.account_id,
                DialingRecord.campaign_id == DialingLease.campaign_id,
                DialingRecord.list_id == DialingLease.list_id,
                DialingRecord.position == DialingLease.position,
            ),
        )
        .where(
            DialingLease.account_id == account_id,
            DialingLease.campaign_id == campaign_id,
            DialingLease.id.in_(list(set(lease_ids))),
        )
        .execution_options(populate_existing=True)
    )
    return {
        lease.id: LeaseFound(lease, record, bool(reachable)) for lease, record, reachable in rows
    }


async def end_lease(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    lease: DialingLease,
    values: dict[str, Any],
    outcome: str,
    now: datetime,
) -> bool:
    """Apply an outcome to the record still held by ``lease``, once; False when it is not held.

    The conditional update is the guard: of two reports of one lease, the second waits for the
    first's row lock (PostgreSQL) or the single writer (SQLite) and then finds the lease ended.
    """
    result = await session.execute(
        update(DialingRecord)
        .where(
            *_campaign_rows(account_id, campaign_id),
            DialingRecord.list_id == lease.list_id,
            DialingRecord.position == lease.position,
            DialingRecord.state == LEASED,
            DialingRecord.lease_id == lease.id,
            DialingRecord.due_at > now,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    await session.execute(
        update(DialingLease)
        .where(DialingLease.account_id == account_id, DialingLease.id == lease.id)
        .values(outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    return True


async def outcome_of(session: AsyncSession, *, account_id: str, lease_id: str) -> str | None:
    return await session.scalar(
        select(DialingLease.outcome).where(
            DialingLease.account_id == account_id, DialingLease.id == lease_id
        )
    )


# ---------------------------------------------------------------- summary


async def summary_rows(
    session: AsyncSession, *, account_id: str, campaign_id: str, list_ids: Sequence[str]
) -> Sequence[Any]:
    """(state, rank, phone, zones) of every reachable record of the campaign."""
    if not list_ids:
        return []
    rows = await session.execute(
        select(DialingRecord.state, DialingRecord.rank, DialingRecord.phone, DialingRecord.zones)
        .join(
            Contact,
            and_(
                Contact.account_id == DialingRecord.account_id,
                Contact.list_id == DialingRecord.list_id,
                Contact.position == DialingRecord.position,
            ),
        )
        .where(*_campaign_rows(account_id, campaign_id), DialingRecord.list_id.in_(list_ids))
    )
    return rows.all()
