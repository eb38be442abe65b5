"""The request lifecycle: bodies read in bounded time with no connection held, exports in pages.

The slow-client attack itself runs against real servers in ``test_slow_clients``; these check
the pieces one at a time, in process.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from contactlists.config import Settings
from contactlists.imports import router as imports_router
from tests.support.contacts import add_contacts, create_list
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"body_timeout_seconds": 0.5, "upload_timeout_seconds": 0.5})


async def slowly(*parts: bytes, pause: float = 1.0) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
        await asyncio.sleep(pause)


def checked_out(app: FastAPI) -> int:
    """Connections of the request pool lent out right now."""
    pool: Any = app.state.engine.pool
    count = pool.checkedout()
    assert isinstance(count, int)
    return count


async def test_a_body_slower_than_its_time_limit_is_refused_with_408(
    app: FastAPI, client: AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        Paths("v2", tenant.bot).create,
        content=slowly(b'{"name": ', b'"Late"}'),
        headers={**tenant.headers(), "content-type": "application/json"},
    )

    assert_failure(response, 408, "request_timeout")
    listed = await client.get(Paths("v2", tenant.bot).get_all, headers=tenant.headers())
    assert listed.json()["data"] == []


async def test_no_connection_is_held_while_a_body_arrives(
    app: FastAPI, client: AsyncClient, tenant: Tenant
) -> None:
    seen: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'{"name": '
        await asyncio.sleep(0.1)  # the token was checked; the route has not run yet
        seen.append(checked_out(app))
        yield b'"On time"}'

    response = await client.post(
        Paths("v2", tenant.bot).create,
        content=body(),
        headers={**tenant.headers(), "content-type": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert seen == [0]


async def test_an_upload_slower_than_its_time_limit_is_refused_with_408(
    client: AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    created = await create_list(client, tenant, "Uploads")
    boundary = "b0undary"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=a.csv\r\n"
        "Content-Type: text/csv\r\n\r\nphoneNumber\r\n"
    ).encode()
    tail = f"+12025550100\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        f"{Paths('v2', tenant.bot).list(created['_id'])}/upload",
        content=slowly(head, tail),
        headers={**tenant.headers(), "content-type": f"multipart/form-data; boundary={boundary}"},
    )

    assert_failure(response, 408, "request_timeout")
    uploads = settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


async def test_an_export_of_several_pages_has_every_contact_once_in_order(
    client: AsyncClient, tenant: Tenant, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports_router, "EXPORT_PAGE_ROWS", 7)
    created = await create_list(client, tenant, "Paged")
    numbers = [f"+1202555{n:04d}" for n in range(50)]
    await add_contacts(client, tenant, "Paged", [{"phoneNumber": n} for n in numbers])
    await run_jobs()

    response = await client.get(
        f"{Paths('v2', tenant.bot).list(created['_id'])}/export", headers=tenant.headers()
    )

    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["phoneNumber"] for row in rows] == numbers


async def test_postgresql_sessions_end_a_transaction_left_idle(
    app: FastAPI, backend: str, settings: Settings
) -> None:
    if backend != "postgresql":
        pytest.skip("idle_in_transaction_session_timeout is PostgreSQL's")
    query = "SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'"
    async with app.state.engine.connect() as connection:
        milliseconds = await connection.scalar(text(query))

    assert milliseconds == str(round(settings.db_idle_in_transaction_seconds * 1000))
