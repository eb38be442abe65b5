"""Fixtures: every database-backed test runs once on SQLite and once on PostgreSQL.

PostgreSQL runs when ``CONTACTLISTS_TEST_DATABASE_URL`` names a server (CI sets it);
each test session creates its own databases there and drops them afterwards. With
``CI=true`` and no PostgreSQL the run fails instead of silently skipping.

Tests are isolated by tenancy rather than by rollback: each test makes fresh apps with
fresh account ids, so it sees only its own data while the code under test commits for
real and concurrent requests really run concurrently.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.db import migrate
from tests.support import databases
from tests.support.jobs import cancel_leftover_jobs
from tests.support.tenants import Tenant, TenantFactory

# Fixtures of real processes: `own`, `started` (background work), `live` (SDK and CLI), `cli`.
pytest_plugins = ["tests.support.durable", "tests.support.live", "tests.support.cli"]

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server_url() -> str | None:
    url = os.environ.get("CONTACTLISTS_TEST_DATABASE_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("CI=true but CONTACTLISTS_TEST_DATABASE_URL is not set: PostgreSQL must run")
    return url


@pytest.fixture(scope="session")
def fresh_database(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str | None
) -> Iterator[databases.DatabaseFactory]:
    """Makes empty databases on either backend; drops the PostgreSQL ones at the end."""
    factory = databases.DatabaseFactory(tmp_path_factory.mktemp("db"), postgres_server_url)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, fresh_database: databases.DatabaseFactory) -> str:
    """A migrated database of each backend, shared by the session's tests."""
    backend: str = request.param
    url = fresh_database.create(backend)
    migrate.upgrade(url)
    return url


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # No background workers: tests run jobs when they choose, with `run_jobs`.
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        workers=0,
        normalise_processes=0,
        job_poll_seconds=0.05,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await cancel_leftover_jobs(application.state.sessionmaker)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
def run_jobs(app: FastAPI) -> Callable[[], Awaitable[int]]:
    """Runs every queued job to its end in this event loop; returns how many ran."""

    async def run() -> int:
        ran: int = await app.state.workers.run_until_idle()
        return ran

    return run


@pytest.fixture
def tenants(app: FastAPI) -> TenantFactory:
    return TenantFactory(app)


@pytest.fixture
async def tenant(tenants: TenantFactory) -> Tenant:
    """An app with the campaign-management scope on one bot of a fresh account."""
    return await tenants.create()


@pytest.fixture
def unique_name() -> str:
    return f"List {secrets.token_hex(4)}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Group tests by backend so each database is set up once and used in one stretch.
    items.sort(key=lambda item: "postgresql" in item.nodeid)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
