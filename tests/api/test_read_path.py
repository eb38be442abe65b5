"""The list-details GET (B4's request) reads with one statement once the caller's app is in the
process's cache: the list with its status and the campaigns using it. A cold cache adds the
app's change counter and the app itself. More would cost a round trip each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event

from tests.support.campaigns import create_campaign, voice_body
from tests.support.contacts import add_contacts, create_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs meanwhile."""
    seen: list[str] = []
    engine = app.state.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_list_details_take_one_statement_whatever_the_list_shows(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    created = await create_list(client, tenant, unique_name)
    url = Paths("v2", tenant.bot).list(created["_id"])
    first = await create_campaign(client, tenant, voice_body(f"{unique_name} A", [unique_name]))
    second = await create_campaign(client, tenant, voice_body(f"{unique_name} B", [unique_name]))
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])

    # The app was read by the calls above; the counter is not due for a re-read.
    app.state.app_cache.check_seconds = 3600
    with statements(app) as seen:
        response = await client.get(url, headers=tenant.headers())

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "Validating"  # the queued addContacts job
    shown = [campaign["id"] for campaign in data["campaignInUse"]]
    assert shown == [first["_id"], second["_id"]]
    assert len(seen) == 1, seen
    assert await run_jobs() == 1  # no job left queued for the tests that follow


async def test_a_cold_cache_reads_the_counter_and_the_app_once(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    created = await create_list(client, tenant, unique_name)
    url = Paths("v2", tenant.bot).list(created["_id"])
    cache = app.state.app_cache
    cache.check_seconds = 3600
    cache._next_check = float("-inf")  # due now, as in a process that just started
    cache._apps.clear()

    with statements(app) as cold:
        assert (await client.get(url, headers=tenant.headers())).status_code == 200
    with statements(app) as warm:
        assert (await client.get(url, headers=tenant.headers())).status_code == 200

    assert "FROM app_generation" in cold[0], cold
    assert "FROM app\n" in cold[1] or "FROM app " in cold[1], cold
    assert len(cold) == 3, cold
    assert len(warm) == 1, warm


async def test_on_postgresql_the_read_runs_without_a_transaction(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, backend: str
) -> None:
    """No BEGIN and COMMIT around the one statement: two round trips fewer. The pooled
    connection goes back to transactions for the next request that draws it."""
    if backend != "postgresql":
        pytest.skip("SQLite keeps its transaction (switching costs more than it saves)")
    created = await create_list(client, tenant, unique_name)
    url = Paths("v2", tenant.bot).list(created["_id"])
    levels: list[str] = []
    engine = app.state.engine.sync_engine

    def note(conn: Any, *_args: Any) -> None:
        levels.append(conn.connection.dbapi_connection.isolation_level)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert (await client.get(url, headers=tenant.headers())).status_code == 200
        levels_of_the_read = list(levels)
        levels.clear()
        renamed = await client.put(url, json={"name": f"{unique_name} 2"}, headers=tenant.headers())
        assert renamed.status_code == 200, renamed.text
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert levels_of_the_read == ["autocommit"]
    assert levels
    assert "autocommit" not in levels
