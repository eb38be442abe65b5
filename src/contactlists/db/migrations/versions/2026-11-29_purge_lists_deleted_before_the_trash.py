"""Queue the purge of lists deleted before the trash existed.

Migration 0003 put such lists past their trash period (restore refuses them) but queued no
purge job for them, so their contacts stayed. This queues one, due at once, for every deleted
list that has no purge waiting or running; the workers then remove their contacts and rows
as they do for any list leaving the trash.

Revision ID: 0004_purge_old_deleted_lists
Revises: 0003_campaigns_and_trash
Create Date: 2026-11-29
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0004_purge_old_deleted_lists"
down_revision: str | None = "0003_campaigns_and_trash"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURGE_LIST = "purge_list"  # contactlists.models.jobs.PURGE_LIST, as it was at this revision

contact_list = sa.table(
    "contact_list",
    sa.column("account_id", sa.String),
    sa.column("id", sa.String),
    sa.column("bot_id", sa.String),
    sa.column("updated_by", sa.String),
    sa.column("deleted_at", UtcDateTime()),
)
job = sa.table(
    "job",
    sa.column("account_id", sa.String),
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("bot_id", sa.String),
    sa.column("list_id", sa.String),
    sa.column("state", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("total", sa.BigInteger),
    sa.column("processed", sa.BigInteger),
    sa.column("inserted", sa.BigInteger),
    sa.column("duplicates", sa.BigInteger),
    sa.column("invalid", sa.BigInteger),
    sa.column("progress_cursor", sa.BigInteger),
    sa.column("attempts", sa.Integer),
    sa.column("created_by", sa.String),
    sa.column("created_at", UtcDateTime()),
    sa.column("run_after", UtcDateTime()),
)


def upgrade() -> None:
    pending_purge = (
        sa.select(job.c.id)
        .where(
            job.c.account_id == contact_list.c.account_id,
            job.c.list_id == contact_list.c.id,
            job.c.kind == PURGE_LIST,
            job.c.state.in_(("queued", "running")),
        )
        .exists()
    )
    orphans = op.get_bind().execute(
        sa.select(
            contact_list.c.account_id,
            contact_list.c.id,
            contact_list.c.bot_id,
            contact_list.c.updated_by,
        ).where(contact_list.c.deleted_at.is_not(None), ~pending_purge)
    )
    now = datetime.now(UTC)
    rows = [
        {
            "account_id": found.account_id,
            "id": f"job-{uuid.uuid4()}",
            "kind": PURGE_LIST,
            "bot_id": found.bot_id,
            "list_id": found.id,
            "state": "queued",
            "payload": {},
            "total": None,
            "processed": 0,
            "inserted": 0,
            "duplicates": 0,
            "invalid": 0,
            "progress_cursor": 0,
            "attempts": 0,
            "created_by": found.updated_by,
            "created_at": now,
            "run_after": now,
        }
        for found in orphans
    ]
    if rows:
        op.bulk_insert(job, rows)


def downgrade() -> None:
    # The queued purges are valid jobs at 0003 too; whatever already ran cannot be undone.
    pass
