"""A large import keeps PostgreSQL's statistics of the contact table fresh.

Without statistics the planner takes the table as nearly empty and may answer a lookup of one
contact by reading the whole list through another index: each foreign-key check of a dialing
record did, at 100,000 contacts. So an import analyses the table once it has stored
``FIRST_ROWS`` contacts, then each time it has doubled what it stored
(``contactlists.db.statistics``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.db.statistics import FIRST_ROWS
from tests.support.contacts import create_list, job
from tests.support.statistics import analyses
from tests.support.tenants import Tenant
from tests.support.uploads import csv_bytes, upload_ok

pytestmark = pytest.mark.anyio
TABLE = "contact"
RunJobs = Callable[[], Awaitable[int]]


async def imported(client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, rows: int) -> None:
    target = await create_list(client, tenant, f"Imported {rows}")
    content = csv_bytes(
        [["phoneNumber", "firstName"]] + [[f"+1646{3000000 + n}", f"N{n}"] for n in range(rows)]
    )
    job_id = await upload_ok(client, tenant, target["_id"], content)
    assert await run_jobs() == 1
    report = await job(client, tenant, job_id)
    assert (report["state"], report["inserted"]) == ("completed", rows)


async def test_an_import_analyses_the_table_once_it_has_stored_enough(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's planner reads no statistics")
    before = await analyses(app, TABLE)

    await imported(client, tenant, run_jobs, FIRST_ROWS - 1)
    assert await analyses(app, TABLE) == before, "a smaller import leaves it to autovacuum"

    # Analysed at FIRST_ROWS; the next would be at twice that.
    await imported(client, tenant, run_jobs, FIRST_ROWS + 5_000)
    assert await analyses(app, TABLE) == before + 1
