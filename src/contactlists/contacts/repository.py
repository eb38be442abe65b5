"""All SQL for contacts, including each database's fastest bulk insert."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from contactlists.contacts.search import Filters, prefix_bounds, search_key
from contactlists.models.contacts import Contact, ContactPrior

COLUMNS = (
    "account_id", "list_id", "position", "id", "phone", "phone_verified", "first_name",
    "last_name", "time_zone", "unique_id", "contact_priority", "fields", "created_at",
    "updated_at", "first_key", "last_key", "unique_key", "import_job_id", "last_job_id",
)  # fmt: skip
KeyColumn = ColumnElement[str | None] | InstrumentedAttribute[str | None]
AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])
# Each search key and the field it is made from: every write of the field writes its key here,
# so no caller can store one without the other.
SEARCH_KEYS = {"first_key": "first_name", "last_key": "last_name", "unique_key": "unique_id"}
# Bound parameters per statement stay well under both databases' limits.
LOOKUP_CHUNK = 5_000


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` in the current transaction: COPY on PostgreSQL, executemany on SQLite.

    Both paths hand the driver plain tuples: SQLAlchemy's per-row parameter processing
    costs more than the database's own work at import sizes.
    """
    if not rows:
        return
    rows = [_with_search_keys(row) for row in rows]
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


def _with_search_keys(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the search key of each keyed field they set."""
    keys = {key: search_key(values[name]) for key, name in SEARCH_KEYS.items() if name in values}
    return {**values, **keys} if keys else values


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


def _key_prefix(key: KeyColumn, prefix: str) -> ColumnElement[bool]:
    low, high = prefix_bounds(prefix)
    if high is None:
        return key >= low
    return and_(key >= low, key < high)


def _field_equals(dialect: str, name: str, value: str) -> ColumnElement[bool]:
    """A custom field equal to ``value``; the name is always a bound parameter, never a path.

    PostgreSQL reads it with ``->>``; SQLite's JSON paths cannot quote every name (a `"` in
    it), so the object's members are searched by key instead.
    """
    if dialect == "postgresql":
        matches: ColumnElement[bool] = Contact.fields[name].as_string() == value
        return matches
    members = func.json_each(Contact.fields).table_valued("key", "value")
    return select(members.c.key).where(members.c.key == name, members.c.value == value).exists()


SEARCH_KEY_COLUMNS = (Contact.first_key, Contact.last_key, Contact.unique_key)


def _search(prefix: str, *, indexed: bool) -> ColumnElement[bool]:
    # `key || ''` is the same value, but no index can serve it: how a plan is chosen here.
    keys = [key if indexed else key + "" for key in SEARCH_KEY_COLUMNS]
    return or_(*(_key_prefix(key, prefix) for key in keys))


def filter_conditions(
    dialect: str, filters: Filters, *, search_indexed: bool = True
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``filters`` (contacts.search), beside the list's own."""
    conditions: list[ColumnElement[bool]] = []
    if filters.phone is not None:
        conditions.append(Contact.phone == filters.phone)
    if filters.search is not None:
        conditions.append(_search(filters.search, indexed=search_indexed))
    conditions.extend(_field_equals(dialect, name, value) for name, value in filters.fields)
    if filters.time_zone is not None:
        conditions.append(Contact.time_zone == filters.time_zone)
    if filters.created_after is not None:
        conditions.append(Contact.created_at >= filters.created_after)
    if filters.created_before is not None:
        conditions.append(Contact.created_at < filters.created_before)
    return conditions


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# A search with fewer matches than this is read from the key indexes (all its matches, sorted
# by position); one with more is read in position order from the cursor, the keys checked on
# each row, which finds a page after about limit × list size / matches rows.
RARE_SEARCH = 2_000


async def _search_is_rare(
    session: AsyncSession, *, account_id: str, list_id: str, prefix: str
) -> bool:
    """Whether fewer than ``RARE_SEARCH`` keys start with ``prefix``: at most that many index
    entries are counted, whatever the list's size."""
    seen = 0
    for key in SEARCH_KEY_COLUMNS:
        matching = (
            select(key)
            .where(Contact.account_id == account_id, Contact.list_id == list_id)
            .where(_key_prefix(key, prefix))
            .limit(RARE_SEARCH - seen)
            .subquery()
        )
        seen += int(await session.scalar(select(func.count()).select_from(matching)) or 0)
        if seen >= RARE_SEARCH:
            return False
    return True


async def _filtered(
    session: AsyncSession,
    query: AnySelect,
    *,
    account_id: str,
    list_id: str,
    after_position: int | None,
    filters: Filters,
) -> AnySelect:
    """``query`` (over one list, in position order) narrowed to ``filters`` and to the
    positions after ``after_position``, with the plan that reads the fewest rows.

    The planners cannot be trusted to choose: PostgreSQL guesses 0.5% for a JSON field's
    equality and then sorts the whole list rather than walk it in order, and SQLite reads every
    match of a common prefix from the key indexes. So the plan is chosen here:

    - a phone number: its index (a number is in a list once or a few times);
    - a rare search: the key indexes, every match read and sorted (the position condition is
      written so that no index serves it);
    - otherwise the primary key from the cursor, in order, each row checked: the filters'
      share of the list decides how many rows a page reads, not its depth.
    """
    dialect = _dialect(session)
    rare = filters.search is not None and await _search_is_rare(
        session, account_id=account_id, list_id=list_id, prefix=filters.search
    )
    query = query.where(*filter_conditions(dialect, filters, search_indexed=rare))
    if after_position is not None:
        position = Contact.position + 0 if rare else Contact.position
        query = query.where(position > after_position)
    if filters and filters.phone is None and not rare and dialect == "postgresql":
        # For this transaction only: the primary key's ordered scan is then the one plan left.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
    return query


async def _in_order(
    session: AsyncSession,
    query: AnySelect,
    account_id: str,
    list_id: str,
    after_position: int | None,
    limit: int,
    filters: Filters | None,
) -> AnySelect:
    """``query`` over the list's contacts in position order, filtered, ``limit`` at most."""
    query = (
        query.where(Contact.account_id == account_id, Contact.list_id == list_id)
        .order_by(Contact.position)
        .limit(limit)
    )
    return await _filtered(
        session,
        query,
        account_id=account_id,
        list_id=list_id,
        after_position=after_position,
        filters=filters or Filters(),
    )


async def page(
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    after_position: int | None,
    skip: int,
    limit: int,
    filters: Filters | None = None,
) -> Sequence[Contact]:
    """A page in insertion order: after a position (constant time) or after ``skip`` rows."""
    query = await _in_order(
        session, select(Contact), account_id, list_id, after_position, limit, filters
    )
    if after_position is None:
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
    session: AsyncSession,
    *,
    account_id: str,
    list_id: str,
    after_position: int,
    limit: int,
    filters: Filters | None = None,
) -> Sequence[Sequence[Any]]:
    """Up to ``limit`` contacts after a position, as rows of ``EXPORT_COLUMNS``."""
    query = await _in_order(
        session, select(*EXPORT_COLUMNS), account_id, list_id, after_position, limit, filters
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
        .values(**_with_search_keys(values))
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
DEDUPE_COLUMNS = {"phoneNumber": Contact.phone, "uniqueId": Contact.unique_id}


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
    column = DEDUPE_COLUMNS[key]
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
    column = DEDUPE_COLUMNS[key]
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
    same columns. The search keys of the fields they set are written with them."""
    if rows:
        await session.execute(update(Contact), [_with_search_keys(row) for row in rows])


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


# ---------------------------------------------------------------- statistics


async def refresh_statistics(session: AsyncSession) -> None:
    """PostgreSQL: re-read the contact table's statistics (``ANALYZE`` samples a bounded
    number of rows, whatever the table's size). SQLite's planner needs none: nothing to do."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE contact"))
