"""All SQL for apps."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.apps.models import App


async def get(session: AsyncSession, client_id: str) -> App | None:
    return await session.get(App, client_id)


async def add(session: AsyncSession, app: App) -> None:
    session.add(app)
    await session.flush()


async def all_apps(session: AsyncSession) -> Sequence[App]:
    result = await session.scalars(select(App).order_by(App.created_at, App.client_id))
    return result.all()


async def any_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(App.client_id.is_not(None)))))
