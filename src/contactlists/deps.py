"""Request-scoped dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings


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


async def _settings(request: Request) -> Settings:
    # A coroutine, not a plain function: FastAPI runs those in a worker thread, and this one
    # is in every authenticated request (B4).
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]
