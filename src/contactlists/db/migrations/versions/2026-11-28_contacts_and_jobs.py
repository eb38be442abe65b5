"""Contacts, durable jobs and their row errors; list status becomes derived from jobs.

Revision ID: 0002_contacts_and_jobs
Revises: 0001_initial
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0002_contacts_and_jobs"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_list") as batch:
        batch.drop_column("status")
        batch.add_column(
            sa.Column("last_position", sa.BigInteger(), server_default="0", nullable=False)
        )

    op.create_table(
        "contact",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("first_name", sa.String(300), nullable=True),
        sa.Column("last_name", sa.String(300), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("unique_id", sa.String(300), nullable=True),
        sa.Column("contact_priority", sa.String(300), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "list_id"],
            ["contact_list.account_id", "contact_list.id"],
            name=op.f("fk_contact_account_id_contact_list"),
        ),
        sa.PrimaryKeyConstraint("account_id", "list_id", "position", name=op.f("pk_contact")),
    )
    op.create_index("uq_contact_public_id", "contact", ["account_id", "id"], unique=True)
    op.create_index("ix_contact_phone", "contact", ["account_id", "list_id", "phone"])

    op.create_table(
        "job",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("bot_id", sa.String(128), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("processed", sa.BigInteger(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("invalid", sa.BigInteger(), nullable=False),
        sa.Column("progress_cursor", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(64), nullable=True),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_claim", "job", ["state", "created_at"])
    op.create_index("ix_job_list", "job", ["account_id", "list_id", "state"])

    op.create_table(
        "job_error",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("job_id", sa.String(48), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "job_id", "row", name=op.f("pk_job_error")),
    )


def downgrade() -> None:
    op.drop_table("job_error")
    op.drop_index("ix_job_list", table_name="job")
    op.drop_index("ix_job_claim", table_name="job")
    op.drop_table("job")
    op.drop_index("ix_contact_phone", table_name="contact")
    op.drop_index("uq_contact_public_id", table_name="contact")
    op.drop_table("contact")
    with op.batch_alter_table("contact_list") as batch:
        batch.drop_column("last_position")
        batch.add_column(sa.Column("status", sa.String(16), server_default="Ready", nullable=False))
