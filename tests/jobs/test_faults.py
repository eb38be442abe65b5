"""A database that is away or too slow answers 503 ``service_unavailable``; a bug stays a 500.

In this process, on both backends: a write that waits for another writer's lock longer
than ``CONTACTLISTS_DB_STATEMENT_TIMEOUT_SECONDS`` (SQLite: SQLITE_BUSY after the busy
timeout; PostgreSQL: the client-side statement timeout) answers 503 quickly and changed
nothing, and the same request succeeds once the lock is gone; a PostgreSQL connection the
server ends, or a database that cannot be reached at all, is a 503 too; a wrong statement
is still a 500. The failures are real ones, raised by the drivers, not imitations.
The network cut itself is in ``test_faults_processes.py``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.db.engine import create_engine
from contactlists.db.unavailable import is_unavailable
from contactlists.deps import SessionDep
from tests.support.contacts import create_list, get_list
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

STATEMENT_TIMEOUT = 0.5
# Generous for a loaded machine; what matters is "seconds, not the 30 s default or minutes".
QUICKLY_SECONDS = 10.0


@asynccontextmanager
async def app_with(settings: Settings) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    application = create_app(settings)
    _add_sql_route(application)
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as client,
    ):
        yield application, client


def _add_sql_route(application: FastAPI) -> None:
    """A test-only route that runs one statement in the request's session, as routes do."""

    async def run_sql(statement: str, session: SessionDep) -> dict[str, str]:
        await session.execute(text(statement))
        return {"status": "ran"}

    application.add_api_route("/test-only/sql", run_sql, methods=["POST"])


@pytest.fixture
async def impatient(settings: Settings) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """The app with a short statement timeout."""
    short = settings.model_copy(update={"db_statement_timeout_seconds": STATEMENT_TIMEOUT})
    async with app_with(short) as pair:
        yield pair


@asynccontextmanager
async def list_locked(database_url: str, list_id: str) -> AsyncIterator[None]:
    """Another writer holds the list's row (PostgreSQL) or the database's write lock (SQLite)."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(
                text("SELECT id FROM contact_list WHERE id = :id FOR UPDATE"), {"id": list_id}
            )
            yield
    finally:
        await engine.dispose()


async def timed(request: Awaitable[Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


# ---------------------------------------------------------------- too slow: 503, then service


async def test_a_write_waiting_on_a_lock_past_the_statement_timeout_is_a_503_and_changes_nothing(
    impatient: tuple[FastAPI, AsyncClient], database_url: str, unique_name: str
) -> None:
    app, client = impatient
    tenant = await TenantFactory(app).create()
    target = await create_list(client, tenant, unique_name)
    url = Paths("v1", tenant.bot).list(target["_id"])
    rename = {"name": f"{unique_name} renamed"}

    async with list_locked(database_url, target["_id"]):
        response, seconds = await timed(client.put(url, json=rename, headers=tenant.headers()))
        assert_failure(response, 503, "service_unavailable")
        assert seconds < QUICKLY_SECONDS
        # Readers are not writers: the list still reads while the lock is held.
        assert (await get_list(client, tenant, target["_id"]))["name"] == unique_name

    assert (await get_list(client, tenant, target["_id"]))["name"] == unique_name
    again = await client.put(url, json=rename, headers=tenant.headers())
    assert again.status_code == 200, again.text
    assert (await get_list(client, tenant, target["_id"]))["name"] == rename["name"]


async def test_a_create_refused_with_503_can_be_sent_again_and_exists_once(
    impatient: tuple[FastAPI, AsyncClient], database_url: str, backend: str, unique_name: str
) -> None:
    if backend == "postgresql":
        pytest.skip("a PostgreSQL create waits on no lock another list holds")
    app, client = impatient
    tenant = await TenantFactory(app).create()
    other = await create_list(client, tenant, f"{unique_name} other")
    create = Paths("v2", tenant.bot).create

    async with list_locked(database_url, other["_id"]):
        refused = await client.post(create, json={"name": unique_name}, headers=tenant.headers())
        assert_failure(refused, 503, "service_unavailable")

    accepted = await client.post(create, json={"name": unique_name}, headers=tenant.headers())
    assert accepted.status_code == 200, accepted.text
    listed = await client.get(
        Paths("v1", tenant.bot).get_all, params={"search": unique_name}, headers=tenant.headers()
    )
    assert [item["name"] for item in listed.json()["data"]] == [unique_name, other["name"]]


async def test_a_statement_past_the_timeout_is_a_503_and_the_pool_still_serves(
    impatient: tuple[FastAPI, AsyncClient], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite statements are not timed, only their wait for a lock")
    _app, client = impatient
    for _ in range(3):  # more than once: the connection the timeout hit is not handed out broken
        response, seconds = await timed(
            client.post("/test-only/sql", params={"statement": "SELECT pg_sleep(5)"})
        )
        assert_failure(response, 503, "service_unavailable")
        assert seconds < 5, "the statement timeout, not the statement, ended the request"
        served = await client.post("/test-only/sql", params={"statement": "SELECT 1"})
        assert served.status_code == 200, served.text


# ---------------------------------------------------------------- away: 503, then service


async def test_a_connection_the_server_ends_is_a_503_and_the_next_request_is_served(
    settings: Settings, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no server to end a connection")
    async with app_with(settings) as (app, client):
        tenant = await TenantFactory(app).create()
        with caplog.at_level(logging.WARNING, logger="contactlists.http"):
            ended = await client.post(
                "/test-only/sql",
                params={"statement": "SELECT pg_terminate_backend(pg_backend_pid())"},
            )
        assert_failure(ended, 503, "service_unavailable")
        # An outage is not a bug: one line, no traceback.
        (record,) = [r for r in caplog.records if r.name == "contactlists.http"]
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert "database unavailable" in record.getMessage()
        # The pool replaced the dead connection: nothing is left broken for later requests.
        for _ in range(3):
            response = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
            assert response.status_code == 200, response.text


@contextmanager
def closed_port() -> Iterator[int]:
    """A local port nothing listens on (refused at once), held so no one else takes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_database_that_cannot_be_reached_is_a_503_and_readyz_says_so(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        # The directory is gone: SQLite cannot open (or create) the file.
        unreachable = settings.model_copy(
            update={"database_url": f"sqlite:///{tmp_path}/missing/contactlists.db"}
        )
        await _assert_unreachable(unreachable)
        # The pool drops the connection that never opened at garbage collection, and
        # aiosqlite's thread then answers on this loop: let that happen while it still runs,
        # not in a later test after the loop is closed.
        gc.collect()
        await asyncio.sleep(0.2)
        return
    with closed_port() as port:
        url = make_url(settings.database_url).set(host="127.0.0.1", port=port)
        await _assert_unreachable(
            settings.model_copy(update={"database_url": url.render_as_string(False)})
        )


async def _assert_unreachable(settings: Settings) -> None:
    async with app_with(settings) as (_app, client):
        bot = "st-00000000-0000-4000-8000-000000000001"
        tenant = Tenant("cs-x", "s" * 43, "a" * 24, "o-x", bot)
        response, seconds = await timed(
            client.post(Paths("v1", bot).create, json={"name": "x"}, headers=tenant.headers())
        )
        assert_failure(response, 503, "service_unavailable")
        assert seconds < QUICKLY_SECONDS
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "unavailable"
        assert (await client.get("/healthz")).status_code == 200


# ---------------------------------------------------------------- bugs stay 500


@pytest.mark.parametrize(
    "statement",
    ["SELEC 1", "SELECT no_such_column FROM contact_list", "SELECT 1 / 0"],
    ids=["syntax", "unknown-column", "division-by-zero"],
)
async def test_a_wrong_statement_is_still_a_500(
    settings: Settings, backend: str, statement: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend == "sqlite" and statement == "SELECT 1 / 0":
        pytest.skip("SQLite answers NULL")
    async with app_with(settings) as (_app, client):
        with caplog.at_level(logging.ERROR, logger="contactlists.http"):
            response = await client.post("/test-only/sql", params={"statement": statement})
    errors = assert_failure(response, 500, "internal_error")
    assert statement not in str(errors)
    assert any(r.exc_info for r in caplog.records if r.name == "contactlists.http")


async def test_the_classification_of_real_driver_errors(database_url: str, backend: str) -> None:
    """Unavailable: what the outage tests above meet. A bug: anything about the statement."""
    engine = create_engine(database_url, statement_timeout=STATEMENT_TIMEOUT)
    failures: dict[str, BaseException] = {}

    async def failure(name: str, work: Callable[[Any], Awaitable[Any]]) -> None:
        try:
            async with engine.connect() as conn, conn.begin():
                await work(conn)
        except Exception as exc:  # collected, then classified below
            failures[name] = exc
        else:
            raise AssertionError(f"{name} did not fail")

    try:
        await failure("syntax", lambda c: c.execute(text("SELEC 1")))
        await failure("no such table", lambda c: c.execute(text("SELECT * FROM no_such_table")))
        await failure(
            "duplicate key",
            lambda c: c.execute(text("INSERT INTO alembic_version SELECT * FROM alembic_version")),
        )
        if backend == "postgresql":
            await failure("timeout", lambda c: c.execute(text("SELECT pg_sleep(5)")))
            await failure(
                "terminated",
                lambda c: c.execute(text("SELECT pg_terminate_backend(pg_backend_pid())")),
            )
    finally:
        await engine.dispose()
    assert isinstance(failures["duplicate key"], IntegrityError)
    bugs = {"syntax", "no such table", "duplicate key"}
    assert {name for name, exc in failures.items() if not is_unavailable(exc)} == bugs, failures

    with closed_port() as port:
        refused = make_url("postgresql://postgres@127.0.0.1").set(port=port)
        engine = create_engine(refused.render_as_string(False))
        try:
            with pytest.raises(ConnectionRefusedError) as raised:
                async with engine.connect():
                    pass
        finally:
            await engine.dispose()
    assert is_unavailable(raised.value)
    assert not is_unavailable(ValueError("a bug"))
    assert not is_unavailable(asyncio.CancelledError())
