"""The list-details GET (B4's request) reads with two statements: the caller's app, then the
list with its status and the campaigns using it. More would cost a round trip each."""

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


async def test_list_details_take_two_statements_whatever_the_list_shows(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    created = await create_list(client, tenant, unique_name)
    url = Paths("v2", tenant.bot).list(created["_id"])
    first = await create_campaign(client, tenant, voice_body(f"{unique_name} A", [unique_name]))
    second = await create_campaign(client, tenant, voice_body(f"{unique_name} B", [unique_name]))
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])

    with statements(app) as seen:
        response = await client.get(url, headers=tenant.headers())

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "Validating"  # the queued addContacts job
    shown = [campaign["id"] for campaign in data["campaignInUse"]]
    assert shown == [first["_id"], second["_id"]]
    assert len(seen) == 2, seen
    assert await run_jobs() == 1  # no job left queued for the tests that follow
