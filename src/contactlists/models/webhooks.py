"""Webhooks: the URLs an app is told of events at, and the outbox of their deliveries.

``webhook`` is one registered URL of an app. ``webhook_delivery`` is the outbox: one row per
hook and event, written in the transaction that caused the event (the statement that ends a
job, a list's delete or restore), so an event is recorded exactly when what caused it commits.
The delivery worker reads it and records every try in ``webhook_attempt``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime

# The states of a delivery: waiting for its (next) try, acknowledged with a 2xx, given up.
DELIVERY_PENDING = "pending"
DELIVERY_DELIVERED = "delivered"
DELIVERY_FAILED = "failed"


class Webhook(Base):
    __tablename__ = "webhook"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("app.client_id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    # The event types the hook is told of (a subset of webhooks.events.EVENT_TYPES).
    events: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    __tablename__ = "webhook_delivery"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    hook_id: Mapped[str] = mapped_column(String(48))
    # The event: its id is the body's `id`, the same on every try and for every hook.
    event_id: Mapped[str] = mapped_column(String(48))
    event_type: Mapped[str] = mapped_column(String(32))
    event_at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    # Tries made (a claim counts one, before the request is sent).
    attempts: Mapped[int] = mapped_column(SmallInteger)
    # When it may be claimed: its next try, or while a worker holds it, the end of its lease.
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "hook_id"],
            ["webhook.account_id", "webhook.id"],
            name="fk_webhook_delivery_account_id_webhook",
            ondelete="CASCADE",
        ),
        Index("ix_webhook_delivery_due", "state", "due_at"),
        Index("ix_webhook_delivery_hook", "account_id", "hook_id"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    attempt: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hook_id: Mapped[str] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The receiver's HTTP status, or None when no answer came (then ``error`` says why).
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "delivery_id"],
            ["webhook_delivery.account_id", "webhook_delivery.id"],
            name="fk_webhook_attempt_account_id_webhook_delivery",
            ondelete="CASCADE",
        ),
        Index("ix_webhook_attempt_hook", "account_id", "hook_id", "at"),
    )
