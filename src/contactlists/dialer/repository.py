"""All SQL of the dialer: admission, the sweep, the pick, leases, outcomes and the summary."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.campaigns import repository as campaigns
from contactlists.dnc import repository as dnc_repository
from contactlists.models.campaigns import Campaign, CampaignList
from contactlists.models.contacts import Contact
from contactlists.models.dialing import (
    DNC,
    GONE,
    LEASED,
    OPTED_OUT,
    READY,
    RETURNING,
    WAITING,
    WINDOW,
    DialingAdmission,
    DialingLease,
    DialingRecord,
)
from contactlists.models.lists import ContactList

# The states whose records the summary looks up on the DNC lists and judges by their window.
OPEN = (READY, WINDOW, DNC)
# Contacts admitted per statement; bound parameters stay well under both databases' limits.
ADMIT_CHUNK = 2_000
# Keys per lookup statement.
LOOKUP_CHUNK = 5_000
# Rows returned to ready per statement; the rest wait for the next call.
SWEEP_CHUNK = 10_000


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def campaign(
    session: AsyncSession, *, account_id: str, bot_id: str, campaign_id: str
) -> Campaign | None:
    """The campaign; on SQLite through a write, so the dialer's transaction writes first.

    SQLite's single writer is how pickers are serialised there: a transaction that read before
    it wrote could not write once another picker had committed.
    """
    if is_postgres(session):
        return await campaigns.get(
            session, account_id=account_id, bot_id=bot_id, campaign_id=campaign_id
        )
    return await campaigns.lock(
        session, account_id=account_id, bot_id=bot_id, campaign_id=campaign_id
    )


async def lock_campaign(session: AsyncSession, campaign: Campaign) -> None:
    """Hold the campaign's row lock until the transaction ends."""
    await campaigns.lock(
        session, account_id=campaign.account_id, bot_id=campaign.bot_id, campaign_id=campaign.id
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
    """The list's contacts past ``position``, in position order (the contact's primary key).

    On PostgreSQL the rows are share-locked for the transaction that admits them: a contact
    deleted meanwhile would fail the records' foreign key; its delete waits instead, and takes
    the new record with it. (SQLite has one writer: nothing is deleted meanwhile.)
    """
    query = (
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
    if is_postgres(session):
        query = query.with_for_update(read=True, key_share=True)  # FOR KEY SHARE
    rows = await session.execute(query)
    return rows.all()


def _insert(session: AsyncSession) -> Any:
    return postgresql_insert if is_postgres(session) else sqlite_insert


async def insert_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New records; one another dialer admitted meanwhile is left as it is."""
    if rows:
        await session.execute(_insert(session)(DialingRecord).on_conflict_do_nothing(), list(rows))


async def refresh_statistics(session: AsyncSession) -> None:
    """PostgreSQL: re-read the dialing records' statistics (contactlists.db.statistics)."""
    if is_postgres(session):
        await session.execute(text("ANALYZE dialing_record"))


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
            if not is_postgres(session)
            else {"position": func.greatest(DialingAdmission.position, insert.excluded.position)},
        )
    )


# ---------------------------------------------------------------- waits ending, the pick


def _campaign_rows(account_id: str, campaign_id: str) -> list[Any]:
    return [DialingRecord.account_id == account_id, DialingRecord.campaign_id == campaign_id]


async def sweep(session: AsyncSession, *, account_id: str, campaign_id: str, now: datetime) -> int:
    """Return the rows whose wait is over to ``ready`` (a lease that ran out counts no attempt).

    One index range per waiting state (``ix_dialing_record_due``), then an update by primary
    key: an ``UPDATE … WHERE key IN (SELECT … FOR UPDATE)`` was planned as the subquery run
    again for every record of the campaign.
    """
    swept = 0
    for state in RETURNING:
        due = (
            select(DialingRecord.list_id, DialingRecord.position)
            .where(
                *_campaign_rows(account_id, campaign_id),
                DialingRecord.state == state,
                DialingRecord.due_at <= now,
            )
            .limit(SWEEP_CHUNK)
        )
        if is_postgres(session):
            due = due.with_for_update(skip_locked=True)
        keys = (await session.execute(due)).all()
        await update_records(
            session,
            [
                {
                    "account_id": account_id,
                    "campaign_id": campaign_id,
                    "list_id": list_id,
                    "position": position,
                    "state": READY,
                    "due_at": None,
                    "lease_id": None,
                }
                for list_id, position in keys
            ],
        )
        swept += len(keys)
    return swept


@dataclass(frozen=True)
class Candidate:
    record: DialingRecord
    contact: Contact | None  # None when the contact was deleted from its list


ContactKey = tuple[str, int]  # (list_id, position)


async def contacts_at(
    session: AsyncSession, *, account_id: str, keys: Sequence[ContactKey]
) -> dict[ContactKey, Contact]:
    """The contacts at these keys, by primary key: one ``position IN (…)`` probe per list.

    Never a join from records to contacts: without table statistics PostgreSQL planned such a
    join as a scan of the whole list per record.
    """
    by_list: dict[str, list[int]] = {}
    for list_id, position in keys:
        by_list.setdefault(list_id, []).append(position)
    found: dict[ContactKey, Contact] = {}
    for list_id, positions in by_list.items():
        for start in range(0, len(positions), LOOKUP_CHUNK):
            rows = await session.scalars(
                select(Contact).where(
                    Contact.account_id == account_id,
                    Contact.list_id == list_id,
                    Contact.position.in_(positions[start : start + LOOKUP_CHUNK]),
                )
            )
            found.update(((row.list_id, row.position), row) for row in rows)
    return found


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
        select(DialingRecord)
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
    if is_postgres(session):
        statement = statement.with_for_update(skip_locked=True)
    records = list(await session.scalars(statement))
    contacts = await contacts_at(
        session, account_id=account_id, keys=[(r.list_id, r.position) for r in records]
    )
    return [Candidate(r, contacts.get((r.list_id, r.position))) for r in records]


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
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    lease_ids: Sequence[str],
    live_list_ids: Collection[str],
) -> dict[str, LeaseFound]:
    """The campaign's leases of those ids, each with its record and whether it is reachable
    (its list live and attached to the campaign, its contact still there)."""
    if not lease_ids:
        return {}
    found = list(
        await session.scalars(
            select(DialingLease)
            .where(
                DialingLease.account_id == account_id,
                DialingLease.campaign_id == campaign_id,
                DialingLease.id.in_(list(set(lease_ids))),
            )
            .execution_options(populate_existing=True)
        )
    )
    answer = {}
    for lease in found:
        record = await session.get(
            DialingRecord,
            (account_id, campaign_id, lease.list_id, lease.position),
            populate_existing=True,
        )
        # A deleted contact took its record with it (the foreign key cascades).
        reachable = lease.list_id in live_list_ids and record is not None
        answer[lease.id] = LeaseFound(lease, record, reachable)
    return answer


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


@dataclass(frozen=True)
class SummaryCount:
    """How many records share the values the summary judges them by.

    ``rank`` is given for ``waiting`` records, None otherwise; ``zones`` and ``held`` for the
    open ones (``ready``, ``window``, ``dnc``): ``held`` is how the DNC lists hold the number
    (``dnc.repository.HELD``, ``HELD_UNTIL``, or None when they do not).
    """

    state: str
    rank: int | None
    zones: str | None
    held: int | None
    count: int


def _reachable(account_id: str, campaign_id: str, list_ids: Sequence[str]) -> list[Any]:
    """The campaign's records of ``list_ids`` whose contacts are still there."""
    return [
        *_campaign_rows(account_id, campaign_id),
        DialingRecord.list_id.in_(list_ids),
        DialingRecord.state != GONE,
    ]


def _hold(dnc_list_ids: Sequence[str]) -> Any:
    return dnc_repository.hold(
        account_id=DialingRecord.account_id, phone=DialingRecord.phone, list_ids=dnc_list_ids
    )


async def summary_counts(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_ids: Sequence[str],
    dnc_list_ids: Sequence[str],
) -> list[SummaryCount]:
    """The records of the campaign's lists counted in one pass, grouped as the summary needs.

    A record goes with its contact (the foreign key cascades), so every record counted has
    one. An open record's number is looked up on ``dnc_list_ids``, one index probe per list.
    """
    if not list_ids:
        return []
    if is_postgres(session):
        # A probe per record costs the plan past jit_above_cost from some 10,000 records, and
        # compiling took longer than running: 0.8 of 1.3 s at 100,000. For this transaction.
        await session.execute(text("SET LOCAL jit = off"))
    is_open = DialingRecord.state.in_(OPEN)
    rank = case((DialingRecord.state == WAITING, DialingRecord.rank))
    zones = case((is_open, DialingRecord.zones))
    held = case((is_open, _hold(dnc_list_ids)))
    # Grouped outside: the CASE with its subquery is written once, so PostgreSQL sees the
    # same expression (and the same parameters) in the SELECT and the GROUP BY.
    judged = (
        select(
            DialingRecord.state.label("state"),
            rank.label("rank"),
            zones.label("zones"),
            held.label("held"),
        )
        .where(*_reachable(account_id, campaign_id, list_ids))
        .subquery()
    )
    keys = (judged.c.state, judged.c.rank, judged.c.zones, judged.c.held)
    rows = await session.execute(select(*keys, func.count()).group_by(*keys))
    return [SummaryCount(*row) for row in rows]


async def summary_held_until(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_ids: Sequence[str],
    dnc_list_ids: Sequence[str],
) -> list[tuple[str, str, int]]:
    """(zones, phone, how many) of the open records held only by DNC entries with an end."""
    if not list_ids:
        return []
    rows = await session.execute(
        select(DialingRecord.zones, DialingRecord.phone, func.count())
        .where(
            *_reachable(account_id, campaign_id, list_ids),
            DialingRecord.state.in_(OPEN),
            _hold(dnc_list_ids) == dnc_repository.HELD_UNTIL,
        )
        .group_by(DialingRecord.zones, DialingRecord.phone)
    )
    return [(zones, phone, count) for zones, phone, count in rows]


# ---------------------------------------------------------------- Kore.ai's routes


async def records_page(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_ids: Sequence[str],
    skip: int,
    limit: int,
) -> tuple[list[tuple[DialingRecord, Contact]], int]:
    """A page of the campaign's records with their contacts, and how many records there are."""
    if not list_ids:
        return [], 0
    reachable = _reachable(account_id, campaign_id, list_ids)
    total = await session.scalar(select(func.count()).select_from(DialingRecord).where(*reachable))
    records = list(
        await session.scalars(
            select(DialingRecord)
            .where(*reachable)
            .order_by(DialingRecord.list_id, DialingRecord.position)
            .offset(skip)
            .limit(limit)
        )
    )
    contacts = await contacts_at(
        session, account_id=account_id, keys=[(r.list_id, r.position) for r in records]
    )
    page = [
        (record, contacts[(record.list_id, record.position)])
        for record in records
        if (record.list_id, record.position) in contacts
    ]
    return page, int(total or 0)


async def records_of_contacts(
    session: AsyncSession,
    *,
    account_id: str,
    campaign_id: str,
    list_ids: Sequence[str],
    contact_ids: Sequence[str],
) -> dict[str, DialingRecord]:
    """The records of these contacts (by public id, through the contact's id index)."""
    if not list_ids or not contact_ids:
        return {}
    keys = await session.execute(
        select(Contact.id, Contact.list_id, Contact.position).where(
            Contact.account_id == account_id,
            Contact.id.in_(list(set(contact_ids))),
            Contact.list_id.in_(list_ids),
        )
    )
    found: dict[str, DialingRecord] = {}
    for contact_id, list_id, position in keys:
        record = await session.get(
            DialingRecord, (account_id, campaign_id, list_id, position), populate_existing=True
        )
        if record is not None:
            found[contact_id] = record
    return found


async def schedule_callback(
    session: AsyncSession, *, record: DialingRecord, at: datetime, now: datetime
) -> bool:
    """Make the record a callback due ``at``, unless it is leased or opted out meanwhile."""
    result = await session.execute(
        update(DialingRecord)
        .where(
            *_campaign_rows(record.account_id, record.campaign_id),
            DialingRecord.list_id == record.list_id,
            DialingRecord.position == record.position,
            DialingRecord.state.not_in((LEASED, OPTED_OUT)),
        )
        .values(state=WAITING, rank=0, due_at=at, callback_at=at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def campaign_named(
    session: AsyncSession, *, account_id: str, bot_id: str, name: str
) -> Campaign | None:
    return await session.scalar(
        select(Campaign).where(
            Campaign.account_id == account_id,
            Campaign.bot_id == bot_id,
            Campaign.lname == name.strip().casefold(),
        )
    )


async def set_schedule(
    session: AsyncSession,
    *,
    campaign: Campaign,
    schedule: dict[str, Any],
    actor: str,
    now: datetime,
) -> Campaign | None:
    return await campaigns.update_campaign(
        session,
        account_id=campaign.account_id,
        bot_id=campaign.bot_id,
        campaign_id=campaign.id,
        values={
            "document": {**campaign.document, "schedule": schedule},
            "updated_at": now,
            "updated_by": actor,
        },
    )
