"""What the tests of durable background work share: their own database and real processes.

``own`` gives a test a fresh, migrated database of its backend and an in-process app on it
that runs no workers, so the processes the test starts (``started``) see no other test's
jobs; ``wait_until`` polls a condition with a deadline and shows the processes' logs if it
is not met.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.db import migrate
from tests.support.databases import DatabaseFactory
from tests.support.processes import Processes, processes
from tests.support.tenants import TenantFactory

Sessions = async_sessionmaker[AsyncSession]
WAIT_SECONDS = 60.0


def sessions(app: FastAPI) -> Sessions:
    maker: Sessions = app.state.sessionmaker
    return maker


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = WAIT_SECONDS,
    logs: Processes | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            shown = f"\n{logs.outputs()}" if logs else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{shown}")
        await asyncio.sleep(0.02)


def service_settings(tmp_path: Path, **values: object) -> dict[str, str]:
    """CONTACTLISTS_* environment for a service process; quiet, polling often."""
    env = {
        "CONTACTLISTS_LOG_LEVEL": "WARNING",
        "CONTACTLISTS_JOB_POLL_SECONDS": "0.1",
        "CONTACTLISTS_DATA_DIR": str(tmp_path / "data"),
    }
    env.update({f"CONTACTLISTS_{name.upper()}": str(value) for name, value in values.items()})
    return env


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Processes]:
    """Processes a test starts; every one of them (and its helpers) ended afterwards."""
    with processes(tmp_path) as running:
        yield running


@dataclass
class OwnDatabase:
    """A migrated database for one test: its processes see no other test's jobs."""

    url: str
    app: FastAPI
    tenants: TenantFactory
    client: AsyncClient

    async def run_jobs(self) -> int:
        ran: int = await self.app.state.workers.run_until_idle()
        return ran


@pytest.fixture
async def own(
    fresh_database: DatabaseFactory, backend: str, tmp_path: Path
) -> AsyncIterator[OwnDatabase]:
    """A fresh database of the test's backend, and an app on it that runs no workers."""
    # Both make their own event loops: off this one.
    url = await asyncio.to_thread(fresh_database.create, backend)
    await asyncio.to_thread(migrate.upgrade, url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        workers=0,
        normalise_processes=0,
        job_poll_seconds=0.05,
    )
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as client,
    ):
        yield OwnDatabase(url, application, TenantFactory(application), client)
