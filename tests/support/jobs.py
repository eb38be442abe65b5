"""Jobs a test left queued: ended, so that no other test runs (and counts) them.

The tests of one process share its databases, in no fixed order (pytest-xdist shares them
out). A job an app queued and never ran would be run by the next ``run_until_idle`` of any
app on that database, and counted there; an upload's would fail, its file being in the first
app's data directory.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.db.engine import create_engine
from contactlists.models.jobs import ACTIVE_STATES, Job


async def cancel_leftover_jobs(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Job).where(Job.state.in_(ACTIVE_STATES)).values(state="cancelled")
        )


def cancel_leftover_jobs_at(database_url: str) -> None:
    """The same, from synchronous code (a fixture outside any event loop)."""

    async def cancel() -> None:
        engine = create_engine(database_url)
        try:
            await cancel_leftover_jobs(async_sessionmaker(engine))
        finally:
            await engine.dispose()

    asyncio.run(cancel())
