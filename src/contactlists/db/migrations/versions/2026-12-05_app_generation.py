"""A generation counter for apps, so processes may cache them and still see revocations.

``app_generation`` holds one row (``id`` 1). A trigger adds one to its ``generation`` in the
same transaction as every UPDATE or DELETE of ``app``, whatever makes the change; a process
that caches verified apps reads the number at most every ``CONTACTLISTS_APP_CACHE_CHECK_SECONDS``
and forgets its cache when it moved. Inserts need no trigger: an app is cached only once it
has been read, and a new one has not.

Revision ID: 0012_app_generation
Revises: 0011_upsert_undo
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_app_generation"
down_revision: str | None = "0011_upsert_undo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = "UPDATE app_generation SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "app_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_generation")),
    )
    op.execute("INSERT INTO app_generation (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION app_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        # Per statement: a revocation is one statement, and the counter's row lock is taken
        # once whatever the number of rows it changed.
        op.execute(
            "CREATE TRIGGER app_changed AFTER UPDATE OR DELETE ON app "
            "FOR EACH STATEMENT EXECUTE FUNCTION app_generation_bump()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER app_changed_{event.lower()} AFTER {event} ON app "
                f"BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER app_changed ON app")
        op.execute("DROP FUNCTION app_generation_bump()")
    else:
        op.execute("DROP TRIGGER app_changed_update")
        op.execute("DROP TRIGGER app_changed_delete")
    op.drop_table("app_generation")
