"""Hooks for the webhook tests: registered through the service, as the CLI does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from contactlists.models.webhooks import WebhookAttempt, WebhookDelivery
from contactlists.webhooks import service
from contactlists.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signing_key,
    verify,
)
from tests.support.durable import Sessions
from tests.webhooks.receiver import Received


async def add_hook(
    sessions: Sessions, client_id: str, url: str, events: Sequence[str] = ()
) -> service.AddedHook:
    async with sessions() as session, session.begin():
        return await service.add(session, client_id, url, events=events, allow_http=True)


async def deliveries(sessions: Sessions, account_id: str) -> list[WebhookDelivery]:
    async with sessions() as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.account_id == account_id)
            .order_by(WebhookDelivery.event_at, WebhookDelivery.id)
            .execution_options(populate_existing=True)
        )
        return list((await session.scalars(query)).all())


async def attempts(sessions: Sessions, account_id: str) -> list[WebhookAttempt]:
    async with sessions() as session:
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.account_id == account_id)
            .order_by(WebhookAttempt.at, WebhookAttempt.attempt)
            .execution_options(populate_existing=True)
        )
        return list((await session.scalars(query)).all())


def signed_event(received: Received, client_secret: str) -> dict[str, Any]:
    """The event the request carried, once its signature and headers are checked."""
    headers = received.headers
    timestamp = headers[TIMESTAMP_HEADER.lower()]
    assert verify(
        signing_key(client_secret), timestamp, received.body, headers[SIGNATURE_HEADER.lower()]
    ), "the signature does not match"
    event: dict[str, Any] = json.loads(received.body)
    assert set(event) == {"id", "type", "createdAt", "data"}
    assert headers[EVENT_ID_HEADER.lower()] == event["id"]
    assert headers[EVENT_TYPE_HEADER.lower()] == event["type"]
    assert headers["content-type"] == "application/json"
    return event
