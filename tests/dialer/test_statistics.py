"""A large admission keeps PostgreSQL's statistics of the dialing records fresh.

Without them the planner took a million records for none and sorted the campaign on each pick
instead of reading its pick index (about 2 s a call). So admission analyses the table once it
has added ``FIRST_ROWS`` records, then each time it has doubled what it added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.db.statistics import FIRST_ROWS
from tests.dialer.support import dialing, hold_clock
from tests.support.campaigns import trigger
from tests.support.fill import fill_list
from tests.support.statistics import analyses
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio
TABLE = "dialing_record"
Jobs = Callable[[], Awaitable[int]]


async def admitted(
    app: FastAPI, client: AsyncClient, tenant: Tenant, jobs: Jobs, size: int
) -> None:
    run = await dialing(client, tenant, jobs, [], name=f"Renewals {size}", start=False)
    lists = await client.get(
        f"{run.prefix.rsplit('/', 1)[0]}/contactList/getAllListDetails", headers=tenant.headers()
    )
    list_id = next(i["_id"] for i in lists.json()["data"] if i["name"] == f"Renewals {size}")
    await fill_list(app.state.sessionmaker, tenant.account_id, list_id, size)
    assert (await trigger(client, tenant, run.campaign_id, "play")).status_code == 200
    # The first pick admits the whole campaign.
    assert len(await run.next(limit=1)) == 1


async def test_a_large_admission_analyses_the_records(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: Jobs, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's planner reads no statistics")
    hold_clock(app)
    before = await analyses(app, TABLE)

    await admitted(app, client, tenant, run_jobs, FIRST_ROWS - 1)
    assert await analyses(app, TABLE) == before, "a smaller admission leaves it to autovacuum"

    # Analysed at FIRST_ROWS; the next would be at twice that.
    await admitted(app, client, tenant, run_jobs, FIRST_ROWS + 2_000)
    assert await analyses(app, TABLE) == before + 1
