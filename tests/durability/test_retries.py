"""A purge never gives up: it is retried after growing pauses, and ``/metrics`` counts it.

The purge's handler is wrapped to fail its first tries (a full disk, say): with two attempts
allowed, an import would have failed long before, but the purge goes on until it succeeds, each
try after a pause that doubles up to the longest allowed.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contactlists.jobs.worker import Handlers, JobContext, WorkerPool, retry_delay
from contactlists.models.base import utcnow
from contactlists.models.contacts import Contact
from contactlists.models.jobs import Job
from contactlists.tasks import HANDLERS
from contactlists.trash import purge
from tests.support.contacts import add_contacts, create_list
from tests.support.durable import OwnDatabase, sessions
from tests.support.list_wire import delete_list

pytestmark = pytest.mark.anyio

FAILURES = 6
CONTACTS = 25


async def purge_job(app: FastAPI, account_id: str) -> Job:
    async with sessions(app)() as session:
        query = select(Job).where(Job.account_id == account_id, Job.kind == purge.PURGE_LIST)
        return (await session.scalars(query.execution_options(populate_existing=True))).one()


async def contacts_of(app: FastAPI, account_id: str) -> int:
    async with sessions(app)() as session:
        query = select(func.count()).where(Contact.account_id == account_id)
        return int(await session.scalar(query) or 0)


async def test_a_failing_purge_is_retried_with_growing_pauses_until_it_succeeds(
    own: OwnDatabase,
) -> None:
    app, client = own.app, own.client
    tenant = await own.tenants.create()
    doomed = (await create_list(client, tenant, "Hard to purge"))["_id"]
    numbers = [{"phoneNumber": f"+1212555{n:04d}"} for n in range(CONTACTS)]
    await add_contacts(client, tenant, "Hard to purge", numbers)
    await own.run_jobs()
    app.state.settings = app.state.settings.model_copy(update={"trash_days": 0})
    assert (await delete_list(client, tenant, doomed)).status_code == 200

    tries = 0

    async def flaky(context: JobContext) -> None:
        nonlocal tries
        tries += 1
        if tries <= FAILURES:
            raise OSError(28, "No space left on device")
        await purge.purge_list(context)

    assert purge.PURGE_LIST in HANDLERS.persistent
    registry = Handlers(
        {**HANDLERS, purge.PURGE_LIST: flaky},
        ended=HANDLERS.ended,
        persistent=HANDLERS.persistent,
    )
    settings = app.state.settings.model_copy(
        update={"job_max_attempts": 2, "job_retry_seconds": 0.2, "job_retry_max_seconds": 0.8}
    )
    pool = WorkerPool(sessions(app), settings, registry, count=0, metrics=app.state.metrics)
    # (attempts, when the pool was started, when it went idle, when the job is due again)
    pauses: list[tuple[int, datetime, datetime, datetime]] = []
    deadline = time.monotonic() + 60
    try:
        while (found := await purge_job(app, tenant.account_id)).state != "completed":
            assert found.state == "queued", (found.state, found.error)
            assert time.monotonic() < deadline, found
            started = utcnow()
            await pool.run_until_idle()
            idle = utcnow()
            waiting = await purge_job(app, tenant.account_id)
            if waiting.state == "queued":
                # Released after a failure: not due before its pause is over.
                assert waiting.error == "OSError"
                pauses.append((waiting.attempts, started, idle, waiting.run_after))
                wait = (waiting.run_after - utcnow()).total_seconds()
                await asyncio.sleep(max(wait, 0) + 0.01)
    finally:
        await pool.stop()

    done = await purge_job(app, tenant.account_id)
    assert (done.state, done.attempts, done.processed) == ("completed", FAILURES + 1, CONTACTS)
    assert await contacts_of(app, tenant.account_id) == 0
    # One pause per failure, as long as its attempt's delay: 0.2 s, 0.4 s, then 0.8 s at most.
    assert [attempts for attempts, *_ in pauses] == list(range(1, FAILURES + 1))
    delays = [retry_delay(settings, attempts) for attempts, *_ in pauses]
    assert delays == [0.2, 0.4, 0.8, 0.8, 0.8, 0.8]
    # The job was released while the pool ran: its pause starts between those two moments,
    # however slowly a busy machine ran them (stored times keep milliseconds).
    stored = timedelta(milliseconds=1)
    for (attempts, started, idle, due), delay in zip(pauses, delays, strict=True):
        pause = timedelta(seconds=delay)
        assert started + pause - stored <= due <= idle + pause + stored, (attempts, delay)
    scrape = (await client.get("/metrics")).text
    retried = f'contactlists_job_retries_total{{cause="error",kind="purge_list"}} {FAILURES}.0'
    assert retried in scrape, scrape
