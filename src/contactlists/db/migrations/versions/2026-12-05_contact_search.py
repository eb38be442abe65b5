"""Search keys on contacts: case-folded first name, last name and uniqueId, each indexed.

The `search` filter of getAllContacts and export is a case-insensitive prefix of those three
fields. Case is folded by Python (``str.casefold``), not by the database — SQLite's ``lower()``
folds ASCII only and PostgreSQL's depends on the collation — so the keys are stored, written by
every insert and update of a contact, and compared by code point (``COLLATE "C"`` on
PostgreSQL), which makes a prefix one index range.

The existing contacts are back-filled here, in batches by primary key, with the same Python
function the service uses.

Revision ID: 0010_contact_search
Revises: 0009_webhooks
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_contact_search"
down_revision: str | None = "0009_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {"first_key": "first_name", "last_key": "last_name", "unique_key": "unique_id"}
BATCH = 5_000


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    # Nullable columns without a default: instant on both databases, no table copy.
    for key in KEYS:
        op.add_column("contact", sa.Column(key, _key_type(), nullable=True))
    _backfill()
    for key in KEYS:
        op.create_index(f"ix_contact_{key}", "contact", ["account_id", "list_id", key])


def _backfill() -> None:
    """Fill the keys of every contact that has one of the fields, a batch at a time."""
    connection = op.get_bind()
    select = sa.text(
        "SELECT account_id, list_id, position, first_name, last_name, unique_id FROM contact "
        "WHERE (account_id, list_id, position) > (:account_id, :list_id, :position) "
        "AND (first_name IS NOT NULL OR last_name IS NOT NULL OR unique_id IS NOT NULL) "
        "ORDER BY account_id, list_id, position LIMIT :limit"
    )
    update = sa.text(
        "UPDATE contact SET first_key = :first_key, last_key = :last_key, "
        "unique_key = :unique_key "
        "WHERE account_id = :account_id AND list_id = :list_id AND position = :position"
    )
    after = {"account_id": "", "list_id": "", "position": -1}
    while True:
        rows = connection.execute(select, {**after, "limit": BATCH}).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {
                    "account_id": row.account_id,
                    "list_id": row.list_id,
                    "position": row.position,
                    **{key: _fold(getattr(row, field)) for key, field in KEYS.items()},
                }
                for row in rows
            ],
        )
        last = rows[-1]
        after = {"account_id": last.account_id, "list_id": last.list_id, "position": last.position}


def _fold(value: str | None) -> str | None:
    # contactlists.contacts.search.search_key, repeated: a migration does not change when the
    # code it would import does.
    return None if value is None else value.casefold()


def downgrade() -> None:
    for key in KEYS:
        op.drop_index(f"ix_contact_{key}", table_name="contact")
    with op.batch_alter_table("contact") as batch:
        for key in KEYS:
            batch.drop_column(key)
