"""Numbers stored unverified: a flag on the contact, a count on the job.

A number that libphonenumber does not know as valid but that is plausible (a country code in
use, a possible length) is now stored, flagged. Every contact stored before was verified, and
every job before stored none unverified: the defaults say so, and no row is rewritten.

Revision ID: 0007_unverified_numbers
Revises: 0006_job_takeovers
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_unverified_numbers"
down_revision: str | None = "0006_job_takeovers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: instant on PostgreSQL 11+ and on SQLite, where
    # a batch operation would copy the contact table.
    op.add_column(
        "contact",
        sa.Column("phone_verified", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "job", sa.Column("unverified", sa.BigInteger(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("unverified")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("phone_verified")
