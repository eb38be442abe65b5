"""Takeovers counted apart from attempts; no contact data left in ended or orphaned jobs.

A job taken over from a worker that went silent (killed, cut off) did not fail, so takeovers
get a column of their own and spend no attempt. The items of an addContacts call are now
dropped when its job ends: this drops them from the jobs that ended before. And the purge of
a list now removes its jobs and their row errors: this removes those of lists already purged
(their purge jobs stay, holding no contact data).

Revision ID: 0006_job_takeovers
Revises: 0005_rate_limit
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_job_takeovers"
down_revision: str | None = "0005_rate_limit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As they were at this revision (contactlists.models.jobs, contactlists.trash.purge).
FINAL_STATES = ("completed", "failed", "cancelled")
PAYLOAD_INPUT = "items"
PURGE_LIST = "purge_list"
BATCH = 1_000

contact_list = sa.table(
    "contact_list", sa.column("account_id", sa.String), sa.column("id", sa.String)
)
job = sa.table(
    "job",
    sa.column("account_id", sa.String),
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("list_id", sa.String),
    sa.column("state", sa.String),
    sa.column("payload", sa.JSON),
)
job_error = sa.table(
    "job_error", sa.column("account_id", sa.String), sa.column("job_id", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("takeovers", sa.Integer(), nullable=True))
    op.execute("UPDATE job SET takeovers = 0")
    with op.batch_alter_table("job") as batch:
        batch.alter_column("takeovers", existing_type=sa.Integer(), nullable=False)
    _drop_input_of_ended_jobs()
    _remove_jobs_of_purged_lists()


def _drop_input_of_ended_jobs() -> None:
    connection = op.get_bind()
    ended = connection.execute(
        sa.select(job.c.account_id, job.c.id, job.c.payload).where(job.c.state.in_(FINAL_STATES))
    )
    for found in ended:
        if isinstance(found.payload, dict) and PAYLOAD_INPUT in found.payload:
            kept = {key: value for key, value in found.payload.items() if key != PAYLOAD_INPUT}
            connection.execute(
                sa.update(job)
                .where(job.c.account_id == found.account_id, job.c.id == found.id)
                .values(payload=kept)
            )


def _remove_jobs_of_purged_lists() -> None:
    connection = op.get_bind()
    list_row = (
        sa.select(contact_list.c.id)
        .where(contact_list.c.account_id == job.c.account_id, contact_list.c.id == job.c.list_id)
        .exists()
    )
    orphans = connection.execute(
        sa.select(job.c.account_id, job.c.id).where(
            job.c.list_id.is_not(None), job.c.kind != PURGE_LIST, ~list_row
        )
    ).all()
    for start in range(0, len(orphans), BATCH):
        keys = [(found.account_id, found.id) for found in orphans[start : start + BATCH]]
        connection.execute(
            sa.delete(job_error).where(
                sa.tuple_(job_error.c.account_id, job_error.c.job_id).in_(keys)
            )
        )
        connection.execute(sa.delete(job).where(sa.tuple_(job.c.account_id, job.c.id).in_(keys)))


def downgrade() -> None:
    # What was removed cannot come back, and needs not: the schema is all that changes.
    with op.batch_alter_table("job") as batch:
        batch.drop_column("takeovers")
