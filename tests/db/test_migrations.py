"""Alembic migrations are the only way the schema is made, and they make exactly the models.

``migrate.upgrade`` runs its own event loop, so it is called from a worker thread here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from contactlists.db import migrate
from contactlists.db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from contactlists.models import Base
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio

MODEL_TABLES = {
    "app",
    "app_generation",
    "contact_list",
    "contact",
    "contact_prior",
    "job",
    "job_error",
    "campaign",
    "dialing_record",
    "dialing_lease",
    "webhook",
    "webhook_delivery",
    "webhook_attempt",
    "dialing_admission",
    "campaign_list",
    "rate_limit",
}


async def upgrade(database_url: str, revision: str = "head") -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, revision)


async def downgrade(database_url: str, revision: str) -> None:
    await anyio.to_thread.run_sync(migrate.downgrade, database_url, revision)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return await conn.run_sync(_differences)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))


@pytest.fixture
def empty_database_url(fresh_database: DatabaseFactory, backend: str) -> str:
    """A new, empty database of each backend (made outside the event loop)."""
    return fresh_database.create(backend)


@pytest.fixture
def empty_sqlite_url(fresh_database: DatabaseFactory) -> str:
    return fresh_database.create("sqlite")


async def test_migrations_make_exactly_the_models(empty_database_url: str) -> None:
    database_url = empty_database_url
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        assert await schema_differences(engine) == []
        assert await table_names(engine) == MODEL_TABLES | {"alembic_version"}
    finally:
        await engine.dispose()


async def test_the_comparison_notices_a_missing_migration(empty_database_url: str) -> None:
    """The guard above has teeth: a schema behind the models shows differences."""
    database_url = empty_database_url
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_contact_list_recent"))
        differences = await schema_differences(engine)
    finally:
        await engine.dispose()

    assert [(diff[0], diff[1].name) for diff in differences] == [
        ("add_index", "ix_contact_list_recent")
    ]


async def test_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    database_url = empty_database_url
    head = migrate.head_revision()
    assert head is not None
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None

        await upgrade(database_url)
        assert await migrate.current_revision(engine) == head
        assert await table_names(engine) >= MODEL_TABLES

        await downgrade(database_url, "base")
        assert await migrate.current_revision(engine) is None
        assert not MODEL_TABLES & await table_names(engine)

        await upgrade(database_url)
        assert await migrate.current_revision(engine) == head
        assert await schema_differences(engine) == []

        # Upgrading a current database changes nothing.
        await upgrade(database_url)
        assert await migrate.current_revision(engine) == head
    finally:
        await engine.dispose()


def test_migrations_form_one_line_of_history() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))

    assert scripts.get_heads() == [migrate.head_revision()]
    revisions = list(scripts.walk_revisions())
    assert revisions
    assert [r.down_revision for r in revisions].count(None) == 1


async def test_sqlite_connections_use_wal_and_foreign_keys(empty_sqlite_url: str) -> None:
    database_url = empty_sqlite_url
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        # Two connections open at once: the pragmas hold for every pooled connection.
        async with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
                assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
                busy_timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
                assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS
    finally:
        await engine.dispose()


def test_src_never_creates_tables_outside_migrations(repo_root: Path) -> None:
    offenders = [
        str(path.relative_to(repo_root))
        for path in (repo_root / "src").rglob("*.py")
        if "create_all(" in path.read_text(encoding="utf-8")
    ]

    assert offenders == []
