"""Apps and contact lists.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("client_secret", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("bots", sa.JSON(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("algorithms", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_app")),
    )
    op.create_index(op.f("ix_app_account_id"), "app", ["account_id"])

    op.create_table(
        "contact_list",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("bot_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column("lname", sa.String(192), nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("list_type", sa.String(8), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("allow_duplicates", sa.Boolean(), nullable=False),
        sa.Column("default_region", sa.String(2), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("total_record_count", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_global_dnc", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_contact_list")),
    )
    op.create_index(
        "uq_contact_list_live_name",
        "contact_list",
        ["account_id", "bot_id", "lname"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_contact_list_recent", "contact_list", ["account_id", "bot_id", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_contact_list_recent", table_name="contact_list")
    op.drop_index("uq_contact_list_live_name", table_name="contact_list")
    op.drop_table("contact_list")
    op.drop_index(op.f("ix_app_account_id"), table_name="app")
    op.drop_table("app")
