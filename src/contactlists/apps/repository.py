"""All SQL for apps."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.apps import App, AppGeneration

# Built once: every authenticated request runs it, and building a statement (and its cache
# key) costs more than session.get saves (B4).
_BY_CLIENT_ID = select(App).where(App.client_id == bindparam("client_id"))


# What authentication needs of a usable app, as plain columns (no ORM object to build): the
# app cache's miss path (apps/cache.py).
_USABLE_BY_CLIENT_ID = select(
    App.client_id,
    App.client_secret,
    App.account_id,
    App.org_id,
    App.bots,
    App.scopes,
    App.algorithms,
).where(App.client_id == bindparam("client_id"), App.revoked_at.is_(None))
_GENERATION = select(AppGeneration.generation).where(AppGeneration.id == 1)


async def get(session: AsyncSession, client_id: str) -> App | None:
    return (await session.scalars(_BY_CLIENT_ID, {"client_id": client_id})).one_or_none()


async def add(session: AsyncSession, app: App) -> None:
    session.add(app)
    await session.flush()


async def all_apps(session: AsyncSession) -> Sequence[App]:
    result = await session.scalars(select(App).order_by(App.created_at, App.client_id))
    return result.all()


async def any_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(App.client_id.is_not(None)))))


UsableColumns = Row[str, str, str, str, list[str] | None, list[str], list[str]]


async def usable_columns(session: AsyncSession, client_id: str) -> UsableColumns | None:
    """The columns authentication needs of an app that is not revoked, or None."""
    result = await session.execute(_USABLE_BY_CLIENT_ID, {"client_id": client_id})
    return result.one_or_none()


async def generation(session: AsyncSession) -> int:
    """How many times ``app`` was changed (its trigger counts every UPDATE and DELETE)."""
    return int((await session.execute(_GENERATION)).scalar_one())
