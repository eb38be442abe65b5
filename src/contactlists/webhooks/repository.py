"""All SQL of webhooks: the hooks, the outbox rows (recorded, claimed, settled), the tries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.apps import App
from contactlists.models.base import utcnow
from contactlists.models.webhooks import (
    DELIVERY_PENDING,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


async def add(session: AsyncSession, hook: Webhook) -> None:
    session.add(hook)
    await session.flush()


async def of_app(session: AsyncSession, client_id: str) -> Sequence[Webhook]:
    query = (
        select(Webhook)
        .where(Webhook.client_id == client_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return (await session.scalars(query)).all()


async def count_of_app(session: AsyncSession, client_id: str) -> int:
    query = select(func.count()).where(Webhook.client_id == client_id)
    return int(await session.scalar(query) or 0)


async def remove(session: AsyncSession, *, client_id: str, hook_id: str) -> bool:
    """Remove the app's hook with its deliveries and their tries; False if it has none such."""
    result = await session.execute(
        delete(Webhook).where(Webhook.client_id == client_id, Webhook.id == hook_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Listener:
    """A hook of the account, with what decides whether an event reaches it."""

    hook_id: str
    events: list[str]
    bots: list[str] | None


async def listeners(session: AsyncSession, account_id: str) -> list[Listener]:
    """The account's hooks whose app is not revoked (a revoked app is told of nothing)."""
    query = (
        select(Webhook.id, Webhook.events, App.bots)
        .join(App, App.client_id == Webhook.client_id)
        .where(Webhook.account_id == account_id, App.revoked_at.is_(None))
    )
    return [
        Listener(hook_id, events, bots) for hook_id, events, bots in await session.execute(query)
    ]


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), list(rows))


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds, with everything its request needs."""

    account_id: str
    id: str
    hook_id: str
    event_id: str
    event_type: str
    event_at: datetime
    data: dict[str, Any]
    attempts: int
    url: str
    client_secret: str


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [WebhookDelivery.state == DELIVERY_PENDING, WebhookDelivery.due_at <= now]


async def any_due(session: AsyncSession) -> bool:
    """Whether some delivery is due now: a read, so an idle poll writes nothing."""
    query = select(WebhookDelivery.id).where(*_due(utcnow())).limit(1)
    return await session.scalar(query) is not None


async def claim(
    session: AsyncSession, *, worker: str, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for ``worker`` until ``lease_until``; each one try.

    One statement, as the job claim: PostgreSQL skips rows another transaction has locked,
    SQLite runs one writer at a time. A delivery held by a worker is not due before its
    lease ends, so two workers never send it at once; one whose worker died is due again then.
    """
    candidates = (
        select(WebhookDelivery.account_id, WebhookDelivery.id)
        .where(*_due(utcnow()))
        .order_by(WebhookDelivery.due_at, WebhookDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    picked = candidates.cte("picked")
    statement = (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.account_id == picked.c.account_id,
            WebhookDelivery.id == picked.c.id,
        )
        .values(locked_by=worker, due_at=lease_until, attempts=WebhookDelivery.attempts + 1)
        .returning(
            WebhookDelivery.account_id,
            WebhookDelivery.id,
            WebhookDelivery.hook_id,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.event_at,
            WebhookDelivery.data,
            WebhookDelivery.attempts,
        )
    )
    taken = (await session.execute(statement)).all()
    if not taken:
        return []
    targets = await _targets(session, {(row.account_id, row.hook_id) for row in taken})
    claimed = []
    for row in taken:
        target = targets.get((row.account_id, row.hook_id))
        if target is None:
            continue  # its hook was removed meanwhile, and the delivery with it
        url, secret = target
        claimed.append(
            Claimed(
                account_id=row.account_id,
                id=row.id,
                hook_id=row.hook_id,
                event_id=row.event_id,
                event_type=row.event_type,
                event_at=row.event_at,
                data=row.data,
                attempts=row.attempts,
                url=url,
                client_secret=secret,
            )
        )
    return claimed


async def _targets(
    session: AsyncSession, hooks: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(url, the app's secret) of each hook."""
    query = (
        select(Webhook.account_id, Webhook.id, Webhook.url, App.client_secret)
        .join(App, App.client_id == Webhook.client_id)
        .where(Webhook.id.in_([hook_id for _, hook_id in hooks]))
    )
    rows = (await session.execute(query)).all()
    return {
        (account_id, hook_id): (url, secret)
        for account_id, hook_id, url, secret in rows
        if (account_id, hook_id) in hooks
    }


async def settle(
    session: AsyncSession, delivery: Claimed, *, worker: str, values: dict[str, Any]
) -> bool:
    """Record the end of a try, if ``worker`` still holds the delivery; False otherwise."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.account_id == delivery.account_id,
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.locked_by == worker,
            WebhookDelivery.state == DELIVERY_PENDING,
        )
        .values(locked_by=None, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_attempt(session: AsyncSession, attempt: dict[str, Any]) -> None:
    await session.execute(insert(WebhookAttempt), [attempt])


@dataclass(frozen=True)
class AttemptSeen:
    at: datetime
    attempt: int
    event_type: str
    event_id: str
    status_code: int | None
    error: str | None
    state: str


async def last_attempts(
    session: AsyncSession, *, account_id: str, hook_id: str, limit: int
) -> list[AttemptSeen]:
    """The hook's last ``limit`` tries, the newest first, with their delivery's state now."""
    query = (
        select(
            WebhookAttempt.at,
            WebhookAttempt.attempt,
            WebhookDelivery.event_type,
            WebhookDelivery.event_id,
            WebhookAttempt.status_code,
            WebhookAttempt.error,
            WebhookDelivery.state,
        )
        .join(
            WebhookDelivery,
            (WebhookDelivery.account_id == WebhookAttempt.account_id)
            & (WebhookDelivery.id == WebhookAttempt.delivery_id),
        )
        .where(WebhookAttempt.account_id == account_id, WebhookAttempt.hook_id == hook_id)
        .order_by(WebhookAttempt.at.desc(), WebhookAttempt.attempt.desc())
        .limit(limit)
    )
    return [AttemptSeen(*row) for row in await session.execute(query)]


async def delivery_counts(
    session: AsyncSession, *, account_id: str, hook_id: str
) -> dict[str, int]:
    """How many of the hook's deliveries are in each state."""
    query = (
        select(WebhookDelivery.state, func.count())
        .where(WebhookDelivery.account_id == account_id, WebhookDelivery.hook_id == hook_id)
        .group_by(WebhookDelivery.state)
    )
    return {str(state): int(count) for state, count in await session.execute(query)}
