"""Webhooks as the operator manages them, and events as the features record them.

Takes the session, never commits. :func:`record_event` is called inside the transaction that
causes the event (the statement ending a job, a list's delete or restore): the outbox rows
commit with it or not at all, so no event is lost to a crash and none is told that did not
happen.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.apps import repository as apps_repository
from contactlists.models.apps import App
from contactlists.models.base import utcnow
from contactlists.models.webhooks import DELIVERY_PENDING, Webhook
from contactlists.webhooks import repository
from contactlists.webhooks.events import EVENT_TYPES
from contactlists.webhooks.repository import AttemptSeen
from contactlists.webhooks.signing import signing_key
from contactlists.webhooks.urls import WebhookInputError, checked_url

MAX_HOOKS_PER_APP = 10
ATTEMPTS_SHOWN = 5


class UnknownApp(LookupError):
    pass


class UnknownHook(LookupError):
    pass


@dataclass(frozen=True)
class AddedHook:
    hook: Webhook
    # The key receivers verify signatures with (derived from the app's secret).
    signing_key: str


async def _app(session: AsyncSession, client_id: str) -> App:
    app = await apps_repository.get(session, client_id)
    if app is None:
        raise UnknownApp(client_id)
    return app


async def add(
    session: AsyncSession,
    client_id: str,
    url: str,
    *,
    events: Sequence[str] = (),
    allow_http: bool,
) -> AddedHook:
    """Register ``url`` to be told of ``events`` (every type when none is given)."""
    url = checked_url(url, allow_http=allow_http)
    if bad := sorted(set(events) - set(EVENT_TYPES)):
        raise WebhookInputError(
            f"unknown event(s) {', '.join(bad)}; known: {', '.join(EVENT_TYPES)}"
        )
    app = await _app(session, client_id)
    if app.revoked_at is not None:
        raise WebhookInputError("the app is revoked")
    if await repository.count_of_app(session, client_id) >= MAX_HOOKS_PER_APP:
        raise WebhookInputError(f"an app has at most {MAX_HOOKS_PER_APP} webhooks")
    hook = Webhook(
        account_id=app.account_id,
        id=f"wh-{uuid.uuid4()}",
        client_id=client_id,
        url=url,
        events=[kind for kind in EVENT_TYPES if kind in events] if events else list(EVENT_TYPES),
        created_at=utcnow(),
    )
    await repository.add(session, hook)
    return AddedHook(hook, signing_key(app.client_secret))


@dataclass(frozen=True)
class HookView:
    hook: Webhook
    counts: dict[str, int]
    last_attempts: list[AttemptSeen]


async def of_app(session: AsyncSession, client_id: str) -> list[HookView]:
    """The app's hooks, each with its deliveries per state and its last tries."""
    await _app(session, client_id)
    views = []
    for hook in await repository.of_app(session, client_id):
        counts = await repository.delivery_counts(
            session, account_id=hook.account_id, hook_id=hook.id
        )
        attempts = await repository.last_attempts(
            session, account_id=hook.account_id, hook_id=hook.id, limit=ATTEMPTS_SHOWN
        )
        views.append(HookView(hook, counts, attempts))
    return views


async def remove(session: AsyncSession, client_id: str, hook_id: str) -> None:
    """Remove the hook; its deliveries not yet made go with it."""
    await _app(session, client_id)
    if not await repository.remove(session, client_id=client_id, hook_id=hook_id):
        raise UnknownHook(hook_id)


async def record_event(
    session: AsyncSession,
    *,
    account_id: str,
    bot_id: str,
    event_type: str,
    data: dict[str, Any],
) -> str | None:
    """Queue the event for every hook of the account that wants it; its id, or None if none.

    A hook wants it when its app is not revoked, may use the event's bot, and the hook
    listens to the type.
    """
    wanting = [
        listener.hook_id
        for listener in await repository.listeners(session, account_id)
        if event_type in listener.events and (listener.bots is None or bot_id in listener.bots)
    ]
    if not wanting:
        return None
    now = utcnow()
    event_id = f"evt-{uuid.uuid4()}"
    await repository.add_deliveries(
        session,
        [
            {
                "account_id": account_id,
                "id": f"whd-{uuid.uuid4()}",
                "hook_id": hook_id,
                "event_id": event_id,
                "event_type": event_type,
                "event_at": now,
                "data": data,
                "state": DELIVERY_PENDING,
                "attempts": 0,
                "due_at": now,
                "locked_by": None,
                "finished_at": None,
            }
            for hook_id in wanting
        ],
    )
    return event_id
