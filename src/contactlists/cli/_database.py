"""The operator commands' database: their settings and transactions (needs the server extra)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.cli._common import fail
from contactlists.config import Settings, get_settings
from contactlists.db import migrate
from contactlists.db.engine import (
    UnsupportedDatabaseError,
    async_url,
    create_engine,
    create_sessionmaker,
)

T = TypeVar("T")


def settings_for(database_url: str | None) -> Settings:
    """The settings, with the database URL from the flag if given; exits on a bad URL."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise fail(f"invalid CONTACTLISTS_* setting: {exc}") from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    try:
        async_url(settings.database_url)
    except UnsupportedDatabaseError as exc:
        raise fail(str(exc)) from None
    except (ArgumentError, ValueError) as exc:  # a port that is not a number raises ValueError
        # The message names the part at fault, never the URL, which may hold a password.
        raise fail(f"the database URL is not valid: {exc}") from None
    return settings


def in_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run ``work`` in one committed transaction."""
    migrate.upgrade(database_url)

    async def run() -> T:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
