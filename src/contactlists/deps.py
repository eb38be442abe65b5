"""Request-scoped dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.models.base import utcnow


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the request owns the transaction, services never commit."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        # Committed before the response is sent (scope="function"), so a failed
        # commit becomes an error response instead of a lost write.
        await session.commit()


async def single_statement_read(session: AsyncSession) -> None:
    """The session's one statement runs without BEGIN and COMMIT (PostgreSQL).

    For a route that reads with a single statement (a statement is its own snapshot, so a
    transaction adds nothing): on asyncpg, autocommit is a setting of the client, so the read
    costs one round trip instead of three (B4). Call it before the session's first statement.
    SQLite is left as it is: there the switch is a hop to the driver's thread each way, dearer
    than the BEGIN it saves (tried in B4).
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def _settings(request: Request) -> Settings:
    # A coroutine, not a plain function: FastAPI runs those in a worker thread, and this one
    # is in every authenticated request (B4).
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]


def _wall_clock() -> datetime:
    return utcnow()


async def _clock(request: Request) -> Callable[[], datetime]:
    """The clock rules about time read (calling windows, leases, DNC expiry).

    ``app.state.clock`` when set (tests hold time still and move it), else the wall clock.
    """
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", None) or _wall_clock
    return clock


ClockDep = Annotated[Callable[[], datetime], Depends(_clock)]
