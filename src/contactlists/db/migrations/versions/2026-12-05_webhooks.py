"""Webhooks: an app's registered URLs, the outbox of their deliveries, and each try.

Three new tables, nothing existing changes: ``webhook`` (a URL of an app and the events it is
told of), ``webhook_delivery`` (one row per hook and event, written in the transaction that
caused the event) and ``webhook_attempt`` (each try: when, the status or the error).

Revision ID: 0009_webhooks
Revises: 0008_dialing
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0009_webhooks"
down_revision: str | None = "0008_dialing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["app.client_id"],
            name="fk_webhook_client_id_app",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name="pk_webhook"),
    )
    op.create_index("ix_webhook_client_id", "webhook", ["client_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("hook_id", sa.String(48), nullable=False),
        sa.Column("event_id", sa.String(48), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("event_at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(64), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "hook_id"],
            ["webhook.account_id", "webhook.id"],
            name="fk_webhook_delivery_account_id_webhook",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "id", name="pk_webhook_delivery"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "due_at"])
    op.create_index("ix_webhook_delivery_hook", "webhook_delivery", ["account_id", "hook_id"])
    op.create_table(
        "webhook_attempt",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("delivery_id", sa.String(48), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("hook_id", sa.String(48), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "delivery_id"],
            ["webhook_delivery.account_id", "webhook_delivery.id"],
            name="fk_webhook_attempt_account_id_webhook_delivery",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "delivery_id", "attempt", name="pk_webhook_attempt"),
    )
    op.create_index("ix_webhook_attempt_hook", "webhook_attempt", ["account_id", "hook_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempt_hook", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_hook", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_webhook_client_id", table_name="webhook")
    op.drop_table("webhook")
