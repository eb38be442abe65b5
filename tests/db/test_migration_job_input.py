"""Revision 0006 moves the items of addContacts jobs out of their payloads.

Items of a job still to run move to ``input_data`` (where the worker reads them); those of an
ended job are dropped; an item holding an escaped NUL, which PostgreSQL's JSON functions
refuse, moves like any other. Downgrading puts the items of waiting jobs back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from contactlists.db.engine import create_engine
from tests.db.test_migrations import downgrade, upgrade
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio

BEFORE = "0005_rate_limit"
AFTER = "0006_job_takeovers"
NOW = datetime(2026, 12, 1, tzinfo=UTC)

job = sa.table(
    "job",
    *(
        sa.column(name)
        for name in (
            "account_id", "id", "kind", "bot_id", "list_id", "state", "total", "processed",
            "inserted", "duplicates", "invalid", "progress_cursor", "attempts", "created_by",
        )
    ),
    sa.column("payload", sa.JSON),
    sa.column("input_data", sa.JSON(none_as_null=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("run_after", sa.DateTime(timezone=True)),
)  # fmt: skip

ITEMS = [{"phoneNumber": "+14155550100", "name": "a\x00b"}]


def _job(job_id: str, state: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": "acct",
        "id": job_id,
        "kind": "add_contacts" if "items" in payload else "upload",
        "bot_id": "bot",
        "list_id": None,
        "state": state,
        "total": 1,
        "processed": 0,
        "inserted": 0,
        "duplicates": 0,
        "invalid": 0,
        "progress_cursor": 0,
        "attempts": 0,
        "created_by": "test",
        "payload": payload,
        "created_at": NOW,
        "run_after": NOW,
    }


async def _stored(database_url: str, *columns: str) -> dict[str, tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(job.c.id, *(job.c[name] for name in columns)))
            return {row[0]: tuple(row[1:]) for row in rows}
    finally:
        await engine.dispose()


@pytest.fixture
def empty_database_url(fresh_database: DatabaseFactory, backend: str) -> str:
    return fresh_database.create(backend)


async def test_items_move_to_input_data_and_leave_ended_jobs(empty_database_url: str) -> None:
    database_url = empty_database_url
    await upgrade(database_url, BEFORE)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(job).values(
                    [
                        _job("queued", "queued", {"items": ITEMS}),
                        _job("running", "running", {"items": ITEMS}),
                        _job("completed", "completed", {"items": ITEMS}),
                        _job("upload", "queued", {"fileId": "f1", "fileName": "a.csv"}),
                    ]
                )
            )
    finally:
        await engine.dispose()

    await upgrade(database_url, AFTER)

    assert await _stored(database_url, "payload", "input_data") == {
        "queued": ({}, ITEMS),
        "running": ({}, ITEMS),
        "completed": ({}, None),
        "upload": ({"fileId": "f1", "fileName": "a.csv"}, None),
    }

    await downgrade(database_url, BEFORE)

    assert await _stored(database_url, "payload") == {
        "queued": ({"items": ITEMS},),
        "running": ({"items": ITEMS},),
        "completed": ({},),
        "upload": ({"fileId": "f1", "fileName": "a.csv"},),
    }
