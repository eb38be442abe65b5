"""The delivery worker: sends what the outbox holds, retries, gives up, never sends twice.

A chore of every job worker pool (registered in ``contactlists.tasks``). Each round claims
the due deliveries in one short transaction (a lease: they are not due again before it ends,
so no other worker sends them meanwhile), closes it, sends them at once with httpx — no
database connection is held while a receiver answers — then records each try in a second
short transaction: a 2xx marks the delivery delivered (never claimed again), anything else
makes it due again after a pause that doubles with each try, until
``CONTACTLISTS_WEBHOOK_MAX_ATTEMPTS`` are spent and it is recorded as failed. All of it is in
the table, so a restart loses nothing: what was due is still due.

A worker that dies between a receiver's 2xx and its record leaves the delivery to be sent
again when its lease ends: delivery is at least once, and the event ``id`` (the same on every
try) lets a receiver drop a repeat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.models.base import utcnow
from contactlists.models.webhooks import DELIVERY_DELIVERED, DELIVERY_FAILED
from contactlists.schemas import format_timestamp
from contactlists.webhooks import repository
from contactlists.webhooks.repository import Claimed
from contactlists.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signing_key,
)

log = logging.getLogger("contactlists.webhooks")

BATCH = 16  # deliveries claimed, and sent concurrently, per round
MAX_ROUNDS = 8  # rounds per call, so a long backlog still lets the pool check for its stop
MAX_BACKOFF_DOUBLINGS = 20
MAX_ERROR_LENGTH = 300  # webhook_attempt.error
USER_AGENT = "contactlists-webhooks/1"


def lease_seconds(settings: Settings) -> float:
    """How long a claim holds a delivery: well past the request's own time limit."""
    return 2 * settings.webhook_timeout_seconds + 30


def retry_delay(settings: Settings, attempts: int) -> float:
    """The pause after the ``attempts``-th failed try: doubling from the setting, capped."""
    doublings = min(max(attempts - 1, 0), MAX_BACKOFF_DOUBLINGS)
    return float(
        min(settings.webhook_retry_seconds * 2**doublings, settings.webhook_retry_max_seconds)
    )


def body_of(delivery: Claimed) -> bytes:
    """The JSON body: the same bytes on every try of the event, for every hook."""
    event = {
        "id": delivery.event_id,
        "type": delivery.event_type,
        "createdAt": format_timestamp(delivery.event_at),
        "data": delivery.data,
    }
    # ASCII escapes: whatever a stored string holds (a lone surrogate), the body encodes.
    return json.dumps(event, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def send(http: httpx.AsyncClient, delivery: Claimed, timeout: float) -> Outcome:
    """One try: POST the signed event; what the receiver answered, or why nothing came.

    Never raises: an unexpected error is this try's failure, recorded like the others, so one
    delivery cannot keep a round's others from being recorded.
    """
    try:
        return await _post(http, delivery, timeout)
    except Exception as exc:
        log.exception("webhook delivery %s: the try could not be made", delivery.id)
        return Outcome(None, type(exc).__name__)


async def _post(http: httpx.AsyncClient, delivery: Claimed, timeout: float) -> Outcome:
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: delivery.event_id,
        EVENT_TYPE_HEADER: delivery.event_type,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(signing_key(delivery.client_secret), timestamp, body),
    }
    try:
        # httpx's timeout bounds each phase; this bounds the whole try.
        async with asyncio.timeout(timeout):
            # The answer's body is not read: only its status matters.
            request = http.build_request("POST", delivery.url, content=body, headers=headers)
            response = await http.send(request, stream=True)
            await response.aclose()
    except TimeoutError:
        return Outcome(None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH])
    return Outcome(response.status_code, None)


def _settled(settings: Settings, delivery: Claimed, outcome: Outcome) -> dict[str, Any]:
    now = utcnow()
    if outcome.acknowledged:
        return {"state": DELIVERY_DELIVERED, "finished_at": now}
    if delivery.attempts >= settings.webhook_max_attempts:
        return {"state": DELIVERY_FAILED, "finished_at": now}
    pause = timedelta(seconds=retry_delay(settings, delivery.attempts))
    return {"due_at": now + pause}


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    worker: str,
    results: list[tuple[Claimed, Outcome]],
) -> None:
    async with sessions() as session, session.begin():
        for delivery, outcome in results:
            values = _settled(settings, delivery, outcome)
            if not await repository.settle(session, delivery, worker=worker, values=values):
                # Its lease ran out and another worker took it, or its hook was removed.
                log.warning("webhook delivery %s is no longer %s's", delivery.id, worker)
                continue
            await repository.add_attempt(
                session,
                {
                    "account_id": delivery.account_id,
                    "delivery_id": delivery.id,
                    "attempt": delivery.attempts,
                    "hook_id": delivery.hook_id,
                    "at": utcnow(),
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                },
            )
            if values.get("state") == DELIVERY_FAILED:
                log.warning(
                    "webhook delivery %s of event %s given up after %d tries",
                    delivery.id,
                    delivery.event_id,
                    delivery.attempts,
                )


async def deliver_round(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, worker: str
) -> int:
    """Claim, send and record one batch of due deliveries; how many were claimed."""
    # Read first: on SQLite every write commit may try to checkpoint the WAL, and a poll that
    # wrote each second kept an idle server busy while long reads (exports) held it open.
    async with sessions() as session:
        if not await repository.any_due(session):
            return 0
    lease_until = utcnow() + timedelta(seconds=lease_seconds(settings))
    async with sessions() as session, session.begin():
        claimed = await repository.claim(
            session, worker=worker, lease_until=lease_until, limit=BATCH
        )
    if not claimed:
        return 0
    timeout = settings.webhook_timeout_seconds
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
    ) as http:
        outcomes = await asyncio.gather(*(send(http, item, timeout) for item in claimed))
    await _record(sessions, settings, worker, list(zip(claimed, outcomes, strict=True)))
    return len(claimed)


async def deliver_due(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The chore's body: deliver what is due now."""
    await deliver_some(sessions, settings)


async def deliver_some(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, worker: str | None = None
) -> int:
    """Deliver what is due, a few rounds at most; how many tries were made."""
    worker = worker or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    sent = 0
    for _ in range(MAX_ROUNDS):
        claimed = await deliver_round(sessions, settings, worker)
        sent += claimed
        if claimed < BATCH:
            break
    return sent
