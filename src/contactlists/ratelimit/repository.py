"""Every SQL statement of the rate limit."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.ratelimit import RateLimitWindow


async def count_request(session: AsyncSession, *, account_id: str, window_start: int) -> int:
    """Count one request of the account in the window; the window's count with it.

    One atomic statement on both dialects (SQLite ≥ 3.35): concurrent requests, from any
    process, each get a different count, so exactly the first N of a window see N or less.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(RateLimitWindow)
        .values(account_id=account_id, window_start=window_start, requests=1)
        .on_conflict_do_update(
            index_elements=[RateLimitWindow.account_id, RateLimitWindow.window_start],
            set_={"requests": RateLimitWindow.requests + 1},
        )
        .returning(RateLimitWindow.requests)
    )
    count: int = (await session.execute(statement)).scalar_one()
    return count


async def forget_windows_before(session: AsyncSession, *, account_id: str, before: int) -> None:
    """Remove the account's windows that started before ``before`` (by primary key)."""
    await session.execute(
        delete(RateLimitWindow).where(
            RateLimitWindow.account_id == account_id, RateLimitWindow.window_start < before
        )
    )
