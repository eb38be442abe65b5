"""Campaigns and their list references; the trash for deleted lists; jobs that wait.

Revision ID: 0003_campaigns_and_trash
Revises: 0002_contacts_and_jobs
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contactlists.models.base import UtcDateTime

revision: str = "0003_campaigns_and_trash"
down_revision: str | None = "0002_contacts_and_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_list") as batch:
        batch.add_column(sa.Column("purge_after", UtcDateTime(), nullable=True))
    # Lists deleted before the trash existed are past their trash period: restore refuses them.
    # No purge job is queued for them here; migration 0004 queues one.
    op.execute("UPDATE contact_list SET purge_after = deleted_at WHERE deleted_at IS NOT NULL")
    op.create_index("ix_contact_list_purge", "contact_list", ["purge_after"])

    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("run_after", UtcDateTime(), nullable=True))
    op.execute("UPDATE job SET run_after = created_at")
    with op.batch_alter_table("job") as batch:
        batch.alter_column("run_after", existing_type=UtcDateTime(), nullable=False)
    # Jobs are claimed in the order they may run, which is no longer the order they were made.
    op.drop_index("ix_job_claim", table_name="job")
    op.create_index("ix_job_claim", "job", ["state", "run_after"])

    op.create_table(
        "campaign",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("bot_id", sa.String(128), nullable=False),
        sa.Column("campaign_type", sa.String(8), nullable=False),
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column("lname", sa.String(192), nullable=False),
        sa.Column("description", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(1), nullable=False),
        sa.Column("dialing_mode", sa.String(16), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("instance_id", sa.String(48), nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name=op.f("pk_campaign")),
    )
    op.create_index("uq_campaign_name", "campaign", ["account_id", "bot_id", "lname"], unique=True)
    op.create_index(
        "ix_campaign_recent", "campaign", ["account_id", "bot_id", "campaign_type", "updated_at"]
    )

    op.create_table(
        "campaign_list",
        sa.Column("account_id", sa.String(24), nullable=False),
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("list_id", sa.String(48), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaign.account_id", "campaign.id"],
            name=op.f("fk_campaign_list_account_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "list_id"],
            ["contact_list.account_id", "contact_list.id"],
            name=op.f("fk_campaign_list_account_id_contact_list"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "campaign_id", "list_id", name=op.f("pk_campaign_list")
        ),
    )
    op.create_index("ix_campaign_list_list", "campaign_list", ["account_id", "list_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_list_list", table_name="campaign_list")
    op.drop_table("campaign_list")
    op.drop_index("ix_campaign_recent", table_name="campaign")
    op.drop_index("uq_campaign_name", table_name="campaign")
    op.drop_table("campaign")
    op.drop_index("ix_job_claim", table_name="job")
    op.create_index("ix_job_claim", "job", ["state", "created_at"])
    with op.batch_alter_table("job") as batch:
        batch.drop_column("run_after")
    op.drop_index("ix_contact_list_purge", table_name="contact_list")
    with op.batch_alter_table("contact_list") as batch:
        batch.drop_column("purge_after")
