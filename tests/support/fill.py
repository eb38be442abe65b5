"""Fill a list with many contacts in one SQL statement, for tests about size (not imports).

The contacts are what an import would store (distinct valid numbers, in position order, their
names' search keys included) and the list's count and last position are set to match, so the
service sees a consistent list. A large one leaves PostgreSQL's statistics of the table fresh,
as a large import does.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.contacts import repository as contacts_repository
from contactlists.db.statistics import FIRST_ROWS

COLUMNS = (
    "account_id, list_id, position, id, phone, first_name, last_name, time_zone, unique_id, "
    "contact_priority, fields, created_at, updated_at, first_key, last_key"
)
POSTGRES_FILL = f"""
INSERT INTO contact ({COLUMNS})
SELECT :account_id, :list_id, n, 'cc-' || gen_random_uuid(), '+1212' || (2000000 + n)::text,
       'First', 'Last', NULL, NULL, NULL, '{{}}'::json, now(), now(), 'first', 'last'
FROM generate_series(1, CAST(:count AS bigint)) AS n
"""
SQLITE_FILL = f"""
INSERT INTO contact ({COLUMNS})
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count)
SELECT :account_id, :list_id, n, 'cc-' || lower(hex(randomblob(16))), '+1212' || (2000000 + n),
       'First', 'Last', NULL, NULL, NULL, '{{}}', :now, :now, 'first', 'last'
FROM g
"""
COUNT_AND_POSITION = """
UPDATE contact_list SET total_record_count = :count, last_position = :count
WHERE account_id = :account_id AND id = :list_id
"""


async def fill_list(
    sessions: async_sessionmaker[AsyncSession], account_id: str, list_id: str, count: int
) -> None:
    """Give an empty list ``count`` contacts, +1 212 200 0001 onwards."""
    values = {"account_id": account_id, "list_id": list_id, "count": count}
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text(POSTGRES_FILL), values)
        else:
            await session.execute(text(SQLITE_FILL), values | {"now": "2026-01-01 00:00:00.000000"})
        await session.execute(text(COUNT_AND_POSITION), values)
    if count >= FIRST_ROWS:
        async with sessions() as session, session.begin():
            await contacts_repository.refresh_statistics(session)
