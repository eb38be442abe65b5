"""All SQL for contacts, including each database's fastest bulk insert."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.contacts import Contact, ContactPrior

COLUMNS = (
    "account_id", "list_id", "position", "id", "phone", "phone_verified", "first_name",
    "last_name", "time_zone", "unique_id", "contact_priority", "fields", "created_at",
    "updated_at", "import_job_id", "last_job_id",
)  # fmt: skip
# Bound parameters per statement stay well under both databases' limits.
LOOKUP_CHUNK = 5_000


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` in the current transaction: COPY on PostgreSQL, executemany on SQLite.

    Both paths hand the driver plain tuples: SQLAlchemy's per-row parameter processing
    costs more than the database's own work at import sizes.
    """
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        records = [
            tuple(json.dumps(row[c]) if c == "fields" else row.get(c) for c in COLUMNS)
            for row in rows
        ]
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "contact", records=records, columns=COLUMNS
        )
        return
    table = cast(Table, Contact.__table__)
    # Each column's own conversion (UtcDateTime, JSON) as SQLAlchemy would apply it; a batch
    # shares its timestamps, so the last conversion is reused while the value repeats.
    converters = [
        _repeat_aware(table.c[c].type.bind_processor(connection.dialect)) for c in COLUMNS
    ]
    records = [
        tuple(convert(row.get(c)) for convert, c in zip(converters, COLUMNS, strict=True))
        for row in rows
    ]
    placeholders = ", ".join("?" for _ in COLUMNS)
    await connection.exec_driver_sql(
        f"INSERT INTO contact ({', '.join(COLUMNS)}) VALUES ({placeholders})", records
    )


def _repeat_aware(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if process is None:
        return lambda value: value
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert


async def existing_phones(
    session: AsyncSession, *, account_id: str, list_id: str, phones: Collection[str]
) -> set[str]:
    found: set[str] = set()
    ordered = sorted(phones)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        query = select(Contact.phone).where(
            Contact.account_id == account_id, Contact.list_id == list_id, Contact.phone.in_(chunk)
        )
        found.update(await session.scalars(query))
    return found


async def page(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    after_position: int | None,
    skip: int,
    limit: int,
) -> Sequence[Contact]:
    """A page in insertion order: after a position (constant time) or after ``skip`` rows."""
    query = (
        select(Contact)
        .where(Contact.account_id == account_id, Contact.list_id == list_id)
        .order_by(Contact.position)
        .limit(limit)
    )
    if after_position is not None:
        query = query.where(Contact.position > after_position)
    else:
        query = query.offset(skip)
    return (await session.scalars(query)).all()


# The columns of an export, in its order; rows, not objects: an export reads millions.
EXPORT_COLUMNS = (
    Contact.position,
    Contact.id,
    Contact.phone,
    Contact.first_name,
    Contact.last_name,
    Contact.time_zone,
    Contact.unique_id,
    Contact.contact_priority,
    Contact.fields,
    Contact.created_at,
)


async def export_page(
    session: AsyncSession, *, account_id: str, list_id: str, after_position: int, limit: int
) -> Sequence[Sequence[Any]]:
    """Up to ``limit`` contacts after a position, as rows of ``EXPORT_COLUMNS``."""
    query = (
        select(*EXPORT_COLUMNS)
        .where(
            Contact.account_id == account_id,
            Contact.list_id == list_id,
            Contact.position > after_position,
        )
        .order_by(Contact.position)
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def get(
    session: AsyncSession, *, account_id: str, list_id: str, contact_id: str
) -> Contact | None:
    return await session.scalar(
        select(Contact).where(
            Contact.account_id == account_id,
            Contact.id == contact_id,
            Contact.list_id == list_id,
        )
    )


async def phone_taken(
    session: AsyncSession, *, account_id: str, list_id: str, phone: str, other_than: str
) -> bool:
    """Whether a contact of the list other than ``other_than`` has this number."""
    query = select(Contact.id).where(
        Contact.account_id == account_id,
        Contact.list_id == list_id,
        Contact.phone == phone,
        Contact.id != other_than,
    )
    return await session.scalar(query.limit(1)) is not None


async def update_one(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    contact_id: str,
    values: dict[str, Any],
) -> Contact | None:
    """Set ``values`` on one contact of the list; the contact after the change, or None."""
    statement = (
        update(Contact)
        .where(
            Contact.account_id == account_id,
            Contact.id == contact_id,
            Contact.list_id == list_id,
        )
        .values(**values)
        .returning(Contact)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def delete_one(
    session: AsyncSession, *, account_id: str, list_id: str, contact_id: str
) -> Contact | None:
    """Delete one contact of the list; the contact as it was, or None."""
    statement = (
        delete(Contact)
        .where(
            Contact.account_id == account_id,
            Contact.id == contact_id,
            Contact.list_id == list_id,
        )
        .returning(Contact)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def delete_by_ids(
    session: AsyncSession, *, account_id: str, list_id: str, contact_ids: Collection[str]
) -> set[str]:
    """Delete the contacts of the list among ``contact_ids``; the ids that were deleted."""
    deleted: set[str] = set()
    ordered = sorted(contact_ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        statement = (
            delete(Contact)
            .where(
                Contact.account_id == account_id,
                Contact.list_id == list_id,
                Contact.id.in_(chunk),
            )
            .returning(Contact.id)
        )
        deleted.update(await session.scalars(statement))
    return deleted


# A purge batch is addressed by physical row id, picked in position order through the primary
# key: the plan stays a key range plus a row-id lookup whatever the planner knows. Deleting by
# position instead (`position IN (SELECT … LIMIT n)` or `position <= last`) is planned over the
# phone index with a filter when PostgreSQL has no statistics for the table, which reads the
# whole list for every batch (36 s and 0.12 s per batch of 500 at 100k contacts, measured;
# this way, 1.6 ms).
_PURGE_BATCH = {
    "postgresql": """
        DELETE FROM contact WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM contact WHERE account_id = :account_id AND list_id = :list_id
            ORDER BY position LIMIT :limit))
    """,
    "sqlite": """
        DELETE FROM contact WHERE rowid IN (
            SELECT rowid FROM contact WHERE account_id = :account_id AND list_id = :list_id
            ORDER BY position LIMIT :limit)
    """,
}


async def delete_first(session: AsyncSession, *, account_id: str, list_id: str, limit: int) -> int:
    """Delete the list's first ``limit`` contacts by position (a purge batch); how many went."""
    statement = text(_PURGE_BATCH[session.get_bind().dialect.name])
    result = await session.execute(
        statement, {"account_id": account_id, "list_id": list_id, "limit": limit}
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def time_zone_counts(
    session: AsyncSession, *, account_id: str, list_id: str, limit: int
) -> list[tuple[str | None, int]]:
    """The list's contacts counted by time zone, the largest first (one scan of the list)."""
    number = func.count().label("number")
    query = (
        select(Contact.time_zone, number)
        .where(Contact.account_id == account_id, Contact.list_id == list_id)
        .group_by(Contact.time_zone)
        .order_by(number.desc(), Contact.time_zone)
        .limit(limit)
    )
    return [(zone, int(n)) for zone, n in (await session.execute(query)).all()]


async def count(session: AsyncSession, *, account_id: str, list_id: str) -> int:
    query = select(func.count()).where(Contact.account_id == account_id, Contact.list_id == list_id)
    return int(await session.scalar(query) or 0)


# ---------------------------------------------------------------- upsert and undo

# The columns an import's update may overwrite, and what its prior-value record keeps.
PRIOR_COLUMNS = (
    "phone", "phone_verified", "first_name", "last_name", "time_zone", "unique_id",
    "contact_priority", "fields", "updated_at", "last_job_id",
)  # fmt: skip
KEY_COLUMNS = {"phoneNumber": Contact.phone, "uniqueId": Contact.unique_id}


class Match(NamedTuple):
    """The contact a row's key matched: where it is, and which import jobs wrote it."""

    position: int
    last_job_id: str | None
    import_job_id: str | None


async def matches_by_key(
    session: AsyncSession, *, account_id: str, list_id: str, key: str, values: Collection[str]
) -> dict[str, Match]:
    """The list's contacts whose ``key`` (a dedupe key) is among ``values``: for each value,
    the first such contact."""
    column = KEY_COLUMNS[key]
    found: dict[str, Match] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        query = (
            select(column, Contact.position, Contact.last_job_id, Contact.import_job_id)
            .where(Contact.account_id == account_id, Contact.list_id == list_id, column.in_(chunk))
            .order_by(Contact.position.desc())
        )
        for value, position, last_job, import_job in await session.execute(query):
            if value is not None:
                found[value] = Match(position, last_job, import_job)  # the lowest comes last
    return found


async def key_taken(
    session: AsyncSession, *, account_id: str, list_id: str, key: str, value: str, other_than: str
) -> bool:
    """Whether a contact of the list other than ``other_than`` has this dedupe-key value."""
    column = KEY_COLUMNS[key]
    query = select(Contact.id).where(
        Contact.account_id == account_id,
        Contact.list_id == list_id,
        column == value,
        Contact.id != other_than,
    )
    return await session.scalar(query.limit(1)) is not None


async def at_positions(
    session: AsyncSession, *, account_id: str, list_id: str, positions: Collection[int]
) -> dict[int, Contact]:
    """The list's contacts at ``positions``, by position."""
    found: dict[int, Contact] = {}
    ordered = sorted(positions)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        query = select(Contact).where(
            Contact.account_id == account_id,
            Contact.list_id == list_id,
            Contact.position.in_(ordered[start : start + LOOKUP_CHUNK]),
        )
        found.update((contact.position, contact) for contact in await session.scalars(query))
    return found


async def update_by_position(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Overwrite contacts by primary key (account_id, list_id, position); each row names the
    same columns."""
    if rows:
        await session.execute(update(Contact), list(rows))


async def prior_positions(
    session: AsyncSession, *, account_id: str, job_id: str, positions: Collection[int]
) -> set[int]:
    """Which of ``positions`` the job has prior values of (contacts it updated)."""
    found: set[int] = set()
    ordered = sorted(positions)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        query = select(ContactPrior.position).where(
            ContactPrior.account_id == account_id,
            ContactPrior.job_id == job_id,
            ContactPrior.position.in_(ordered[start : start + LOOKUP_CHUNK]),
        )
        found.update(await session.scalars(query))
    return found


async def add_priors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(ContactPrior), list(rows))


async def inserted_by_job(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    job_id: str,
    after_position: int,
    limit: int,
) -> Sequence[tuple[int, str, str | None]]:
    """(position, id, last_job_id) of up to ``limit`` contacts the job inserted, past a position."""
    query = (
        select(Contact.position, Contact.id, Contact.last_job_id)
        .where(
            Contact.account_id == account_id,
            Contact.list_id == list_id,
            Contact.import_job_id == job_id,
            Contact.position > after_position,
        )
        .order_by(Contact.position)
        .limit(limit)
    )
    return [(int(p), i, last) for p, i, last in (await session.execute(query)).all()]


async def priors_of_job(
    session: AsyncSession, *, account_id: str, job_id: str, limit: int
) -> Sequence[ContactPrior]:
    """Up to ``limit`` prior-value records of the job, in position order."""
    query = (
        select(ContactPrior)
        .where(ContactPrior.account_id == account_id, ContactPrior.job_id == job_id)
        .order_by(ContactPrior.position)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def delete_priors(
    session: AsyncSession, *, account_id: str, job_id: str, positions: Collection[int]
) -> None:
    ordered = sorted(positions)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        await session.execute(
            delete(ContactPrior).where(
                ContactPrior.account_id == account_id,
                ContactPrior.job_id == job_id,
                ContactPrior.position.in_(ordered[start : start + LOOKUP_CHUNK]),
            )
        )


async def delete_at_positions(
    session: AsyncSession, *, account_id: str, list_id: str, positions: Collection[int]
) -> int:
    """Delete the list's contacts at ``positions``; how many went."""
    removed = 0
    ordered = sorted(positions)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        result = await session.execute(
            delete(Contact).where(
                Contact.account_id == account_id,
                Contact.list_id == list_id,
                Contact.position.in_(ordered[start : start + LOOKUP_CHUNK]),
            )
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed
