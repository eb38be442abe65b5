"""Upsert on re-import and undo of an import: what a job did, recorded.

A list's ``dedupe_key`` (every existing list matched by phone number, as before); on each
contact the import job that inserted it and the one that last wrote it (unknown, NULL, for
contacts stored before); on each job its ``updated``, ``removed`` and ``restored`` counts (0)
and the undo queued for it (none); and ``contact_prior``, the values an import's update
overwrote. No existing row is rewritten: every new column has a constant default or is NULL.

Revision ID: 0011_upsert_undo
Revises: 0010_contact_search
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0011_upsert_undo"
down_revision: str | None = "0010_contact_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_COUNTS = ("updated", "removed", "restored")


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default or NULL: instant on PostgreSQL 11+ and on
    # SQLite, where a batch operation would copy the contact table.
    op.add_column(
        "contact_list",
        sa.Column("dedupe_key", sa.String(16), server_default="phoneNumber", nullable=False),
    )
    op.add_column("contact", sa.Column("import_job_id", sa.String(48), nullable=True))
    op.add_column("contact", sa.Column("last_job_id", sa.String(48), nullable=True))
    op.create_index("ix_contact_unique_id", "contact", ["account_id", "list_id", "unique_id"])
    op.create_index(
        "ix_contact_import_job", "contact", ["account_id", "list_id", "import_job_id", "position"]
    )
    for name in JOB_COUNTS:
        op.add_column("job", sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("job", sa.Column("undone_by", sa.String(48), nullable=True))
    op.create_table(
        "contact_prior",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("job_id", sa.String(48), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("phone_verified", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(300), nullable=True),
        sa.Column("last_name", sa.String(300), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("unique_id", sa.String(300), nullable=True),
        sa.Column("contact_priority", sa.String(300), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("last_job_id", sa.String(48), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id", "list_id", "position"],
            ["contact.account_id", "contact.list_id", "contact.position"],
            name="fk_contact_prior_account_id_contact",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "job_id"],
            ["job.account_id", "job.id"],
            name="fk_contact_prior_account_id_job",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "job_id", "position", name="pk_contact_prior"),
    )
    op.create_index(
        "ix_contact_prior_contact", "contact_prior", ["account_id", "list_id", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_contact_prior_contact", table_name="contact_prior")
    op.drop_table("contact_prior")
    op.drop_index("ix_contact_import_job", table_name="contact")
    op.drop_index("ix_contact_unique_id", table_name="contact")
    _drop_columns("job", ["undone_by", *reversed(JOB_COUNTS)])
    _drop_columns("contact", ["last_job_id", "import_job_id"])
    _drop_columns("contact_list", ["dedupe_key"])


def _drop_columns(table: str, names: list[str]) -> None:
    """Drop plain columns (no index, key or constraint uses them).

    On SQLite with ALTER TABLE … DROP COLUMN (3.35+), not a batch operation: a batch copies the
    table and drops the old one, which foreign keys refuse for contact_list while contacts
    reference it, and which would copy every contact.
    """
    for name in names:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
        else:
            op.drop_column(table, name)
