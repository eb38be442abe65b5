"""The dialing record: per campaign and contact, attempts, outcomes, leases (CONTRACT §9).

Three new tables, nothing existing changes: ``dialing_record`` (one row per campaign and
contact), ``dialing_lease`` (each lease handed out, with its reported outcome) and
``dialing_admission`` (how far each list of a campaign has been taken into the records).

Revision ID: 0008_dialing
Revises: 0007_unverified_numbers
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0008_dialing"
down_revision: str | None = "0007_unverified_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _campaign_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id", "campaign_id"],
        ["campaign.account_id", "campaign.id"],
        name=f"fk_{table}_account_id_campaign",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "dialing_record",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(48), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("zones", sa.String(1024), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        sa.Column("callback_at", UtcDateTime(), nullable=True),
        sa.Column("lease_id", sa.String(48), nullable=True),
        sa.Column("dialer_id", sa.String(128), nullable=True),
        sa.Column("dispositions", sa.JSON(), nullable=False),
        sa.Column("bot_session_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.String(512), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _campaign_key("dialing_record"),
        sa.ForeignKeyConstraint(
            ["account_id", "list_id", "position"],
            ["contact.account_id", "contact.list_id", "contact.position"],
            name="fk_dialing_record_account_id_contact",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "campaign_id", "list_id", "position", name="pk_dialing_record"
        ),
    )
    op.create_index(
        "ix_dialing_record_pick",
        "dialing_record",
        ["account_id", "campaign_id", "state", "rank", "priority", "seq", "list_id", "position"],
    )
    op.create_index(
        "ix_dialing_record_due", "dialing_record", ["account_id", "campaign_id", "state", "due_at"]
    )
    op.create_index(
        "ix_dialing_record_contact", "dialing_record", ["account_id", "list_id", "position"]
    )
    op.create_table(
        "dialing_lease",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        _campaign_key("dialing_lease"),
        sa.PrimaryKeyConstraint("account_id", "id", name="pk_dialing_lease"),
    )
    op.create_index("ix_dialing_lease_campaign", "dialing_lease", ["account_id", "campaign_id"])
    op.create_table(
        "dialing_admission",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("lifo", sa.Boolean(), nullable=False),
        _campaign_key("dialing_admission"),
        sa.PrimaryKeyConstraint(
            "account_id", "campaign_id", "list_id", name="pk_dialing_admission"
        ),
    )


def downgrade() -> None:
    op.drop_table("dialing_admission")
    op.drop_index("ix_dialing_lease_campaign", table_name="dialing_lease")
    op.drop_table("dialing_lease")
    op.drop_index("ix_dialing_record_contact", table_name="dialing_record")
    op.drop_index("ix_dialing_record_due", table_name="dialing_record")
    op.drop_index("ix_dialing_record_pick", table_name="dialing_record")
    op.drop_table("dialing_record")
