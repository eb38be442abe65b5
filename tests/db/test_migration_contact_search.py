"""Revision 0009 adds the search keys of contacts and back-fills them for the contacts stored
before it, case-folded by Python as the service folds them; downgrading drops them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from contactlists.db.engine import create_engine
from contactlists.models.lists import ContactList
from tests.db.test_migrations import downgrade, upgrade
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio

BEFORE = "0009_webhooks"
AFTER = "0010_contact_search"
NOW = datetime(2026, 12, 5, tzinfo=UTC)

contact = sa.table(
    "contact",
    *(
        sa.column(name)
        for name in (
            "account_id", "list_id", "position", "id", "phone", "first_name", "last_name",
            "unique_id", "time_zone", "contact_priority",
        )
    ),
    sa.column("fields", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)  # fmt: skip

# (account, list): [(first name, last name, uniqueId)], in position order.
STORED: dict[tuple[str, str], list[tuple[str | None, str | None, str | None]]] = {
    ("acct-a", "cl-1"): [("Ann", "Ames", "U-1"), ("STRAẞE", None, None), (None, None, None)],
    ("acct-a", "cl-2"): [(None, "ÉMILE", "x%_Y")],
    ("acct-b", "cl-1"): [("Zoë", "", "ǅ")],
}


def _list(account_id: str, list_id: str) -> dict[str, Any]:
    return {
        "account_id": account_id, "id": list_id, "bot_id": "st-bot", "name": list_id,
        "lname": list_id, "description": "", "list_type": "call", "source": "api",
        "allow_duplicates": True, "default_region": "US", "mapping": {}, "columns": [],
        "files": [], "total_record_count": 0, "is_global_dnc": False, "is_default": False,
        "org_id": "o", "created_by": "u", "updated_by": "u", "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


def _contacts() -> list[dict[str, Any]]:
    rows = []
    for (account_id, list_id), people in STORED.items():
        for position, (first, last, unique) in enumerate(people, start=1):
            rows.append(
                {
                    "account_id": account_id, "list_id": list_id, "position": position,
                    "id": f"cc-{account_id}-{list_id}-{position}",
                    "phone": f"+1212555{position:04d}", "first_name": first, "last_name": last,
                    "unique_id": unique, "time_zone": None, "contact_priority": None,
                    "fields": {}, "created_at": NOW, "updated_at": NOW,
                }
            )  # fmt: skip
    return rows


@pytest.fixture
def empty_database_url(fresh_database: DatabaseFactory, backend: str) -> str:
    return fresh_database.create(backend)


async def _keys(database_url: str) -> dict[str, tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT id, first_key, last_key, unique_key FROM contact ORDER BY id")
            )
            return {row[0]: tuple(row[1:]) for row in rows}
    finally:
        await engine.dispose()


async def test_the_keys_of_stored_contacts_are_back_filled(empty_database_url: str) -> None:
    database_url = empty_database_url
    await upgrade(database_url, BEFORE)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            lists = [_list(account, list_id) for account, list_id in STORED]
            await conn.execute(sa.insert(ContactList.__table__).values(lists))
            await conn.execute(sa.insert(contact).values(_contacts()))
    finally:
        await engine.dispose()

    await upgrade(database_url, AFTER)

    assert await _keys(database_url) == {
        "cc-acct-a-cl-1-1": ("ann", "ames", "u-1"),
        "cc-acct-a-cl-1-2": ("strasse", None, None),
        "cc-acct-a-cl-1-3": (None, None, None),
        "cc-acct-a-cl-2-1": (None, "émile", "x%_y"),
        "cc-acct-b-cl-1-1": ("zoë", "", "ǆ"),
    }

    await downgrade(database_url, BEFORE)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("contact")}
            )
    finally:
        await engine.dispose()
    assert {"first_key", "last_key", "unique_key"}.isdisjoint(columns)
