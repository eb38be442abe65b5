"""Takeovers counted apart from attempts; no contact data left in ended or orphaned jobs.

A job taken over from a worker that went silent (killed, cut off) did not fail, so takeovers
get a column of their own and spend no attempt. The items of an addContacts call move from
the payload to a column of their own, ``input_data``, which the statement ending the job sets
to NULL: this moves them for the jobs still queued or running and drops them from the jobs
that ended before. And the purge of a list now removes its jobs and their row errors: this
removes those of lists already purged (their purge jobs stay, holding no contact data).

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
ACTIVE_STATES = ("queued", "running")
PAYLOAD_INPUT = "items"  # where the items of an addContacts call were kept before
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
    sa.column("input_data", sa.JSON(none_as_null=True)),
)
job_error = sa.table(
    "job_error", sa.column("account_id", sa.String), sa.column("job_id", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("takeovers", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("input_data", sa.JSON(), nullable=True))
    op.execute("UPDATE job SET takeovers = 0")
    with op.batch_alter_table("job") as batch:
        batch.alter_column("takeovers", existing_type=sa.Integer(), nullable=False)
    _move_input_out_of_payloads()
    _remove_jobs_of_purged_lists()


def _move_input_out_of_payloads() -> None:
    """Items of active jobs move to ``input_data``; those of ended jobs are dropped.

    Read and rewritten in Python: PostgreSQL's JSON functions refuse the escaped NUL an item
    may hold.
    """
    connection = op.get_bind()
    found_jobs = connection.execute(
        sa.select(job.c.account_id, job.c.id, job.c.state, job.c.payload)
    ).all()
    for found in found_jobs:
        if not (isinstance(found.payload, dict) and PAYLOAD_INPUT in found.payload):
            continue
        kept = {key: value for key, value in found.payload.items() if key != PAYLOAD_INPUT}
        items = found.payload[PAYLOAD_INPUT] if found.state in ACTIVE_STATES else None
        connection.execute(
            sa.update(job)
            .where(job.c.account_id == found.account_id, job.c.id == found.id)
            .values(payload=kept, input_data=items)
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
    # What was removed cannot come back, and needs not; the items of jobs still to run go
    # back into their payloads, where the code of the revision before reads them.
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(job.c.account_id, job.c.id, job.c.payload, job.c.input_data).where(
            job.c.input_data.is_not(None)
        )
    ).all()
    for found in waiting:
        connection.execute(
            sa.update(job)
            .where(job.c.account_id == found.account_id, job.c.id == found.id)
            .values(payload={**found.payload, PAYLOAD_INPUT: found.input_data})
        )
    with op.batch_alter_table("job") as batch:
        batch.drop_column("input_data")
        batch.drop_column("takeovers")
