"""All SQL for apps."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.apps import App

# Built once: every authenticated request runs it, and building a statement (and its cache
# key) costs more than session.get saves (B4).
_BY_CLIENT_ID = select(App).where(App.client_id == bindparam("client_id"))


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
