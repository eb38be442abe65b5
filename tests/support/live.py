"""A real ``contactlists serve`` per backend, for the tests of the SDK and the CLI.

One server process per backend for the whole session, on its own database, running its own
job workers; each test isolates itself by making a tenant (an app on a fresh account and a
new bot) with ``live.tenant()``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from contactlists.apps import service as apps
from contactlists.client import AsyncClient, Client
from contactlists.db.engine import create_engine, create_sessionmaker
from tests.support.databases import DatabaseFactory
from tests.support.durable import service_settings
from tests.support.processes import Process, start_serve

T = TypeVar("T")
BACKENDS = ["sqlite", "postgresql"]


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end from sync or async code alike (in a thread of its own)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


@dataclass(frozen=True)
class LiveTenant:
    """An app on a fresh account, allowed one new bot: what a user's credentials are."""

    base_url: str
    client_id: str
    client_secret: str
    account_id: str
    bot: str

    def client(self, **options: Any) -> Client:
        return Client(
            self.base_url,
            bot=self.bot,
            client_id=self.client_id,
            client_secret=self.client_secret,
            account_id=self.account_id,
            **options,
        )

    def async_client(self, **options: Any) -> AsyncClient:
        return AsyncClient(
            self.base_url,
            bot=self.bot,
            client_id=self.client_id,
            client_secret=self.client_secret,
            account_id=self.account_id,
            **options,
        )

    def environment(self) -> dict[str, str]:
        """The CONTACTLISTS_* variables the CLI reads its connection from."""
        return {
            "CONTACTLISTS_URL": self.base_url,
            "CONTACTLISTS_CLIENT_ID": self.client_id,
            "CONTACTLISTS_CLIENT_SECRET": self.client_secret,
            "CONTACTLISTS_ACCOUNT_ID": self.account_id,
            "CONTACTLISTS_BOT": self.bot,
        }


@dataclass
class LiveService:
    backend: str
    database_url: str
    process: Process

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def tenant(
        self, *, scopes: Sequence[str] = (apps.SCOPE_MANAGE,), of: LiveTenant | None = None
    ) -> LiveTenant:
        """A new app on a fresh account and bot; with ``of``, another app on that one's."""
        bot = of.bot if of else f"st-{uuid.uuid4()}"
        new = apps.NewApp(
            name="live-test",
            account_id=of.account_id if of else None,
            bots=[bot],
            scopes=tuple(scopes),
        )
        client_id, client_secret, account_id = run_async(self._create_app(new))
        return LiveTenant(self.base_url, client_id, client_secret, account_id, bot)

    async def _create_app(self, new: apps.NewApp) -> tuple[str, str, str]:
        engine = create_engine(self.database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                created = await apps.create(session, new)
                return created.client_id, created.client_secret, created.account_id
        finally:
            await engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def live(
    request: pytest.FixtureRequest,
    fresh_database: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveService]:
    """A ``serve`` process of each backend (it migrates its new database at start)."""
    backend: str = request.param
    database_url = fresh_database.create(backend)
    directory = tmp_path_factory.mktemp(f"live-{backend}")
    settings = service_settings(directory)
    server = start_serve(database_url, directory / "serve.log", settings)
    try:
        yield LiveService(backend=backend, database_url=database_url, process=server)
    finally:
        server.stop()
