"""Durable jobs (CONTRACT §4.6, §4.8, §7): imports survive crashes, run once, can be cancelled.

Real processes where the claim is about processes, each test on a fresh database of its own
so that its processes see no other test's jobs: a ``serve`` killed with SIGKILL in the middle
of an import, ``contactlists worker`` processes sharing one PostgreSQL database, a worker
stopped with SIGTERM. The rest runs in this process on the shared test databases: concurrent
imports into one list, cancelling, a stalled worker's job taken over, a slow one kept.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import distinct, func, select
from typer.testing import CliRunner

from contactlists.cli import app as cli
from contactlists.config import Settings
from contactlists.db import migrate
from contactlists.db.engine import create_engine
from contactlists.jobs import repository
from contactlists.jobs.worker import JobContext, WorkerPool
from contactlists.models.contacts import Contact
from contactlists.models.jobs import FINAL_STATES, Job, JobError
from contactlists.models.lists import ContactList
from contactlists.tasks import HANDLERS
from tests.support.contacts import add_contacts, create_list, get_list, job
from tests.support.databases import DatabaseFactory
from tests.support.durable import (
    OwnDatabase,
    service_settings,
    sessions,
    wait_until,
)
from tests.support.paths import Paths
from tests.support.processes import Processes, spawn
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]

# Area codes of several US states: every +1 <code> 55x xxxx number is valid for libphonenumber.
AREA_CODES = (212, 312, 415, 617, 202, 305, 404, 503, 702, 713)
PER_CALL = 10_000  # addContacts' most items per call (CONTRACT §4.6)
WAIT_SECONDS = 60.0


def phones(count: int, start: int = 0) -> list[str]:
    """``count`` distinct valid E.164 numbers: +1 <area code> 55x xxxx, from index ``start``."""
    numbers = ((code, n) for code in AREA_CODES for n in range(20_000))
    return [f"+1{code}55{n:05d}" for code, n in itertools.islice(numbers, start, start + count)]


def items(numbers: Sequence[str]) -> list[dict[str, Any]]:
    return [{"phoneNumber": number} for number in numbers]


def chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


async def stored(app: FastAPI, account_id: str, list_id: str) -> tuple[int, int]:
    """The list's contact rows and distinct phone numbers, counted in SQL."""
    async with sessions(app)() as session:
        query = select(func.count(), func.count(distinct(Contact.phone))).where(
            Contact.account_id == account_id, Contact.list_id == list_id
        )
        rows, numbers = (await session.execute(query)).one()
    return int(rows), int(numbers)


async def count_and_rows(app: FastAPI, account_id: str, list_id: str) -> tuple[int, int]:
    """The list's totalRecordCount and its contact rows, read by one statement (one snapshot)."""
    rows = (
        select(func.count())
        .where(Contact.account_id == account_id, Contact.list_id == list_id)
        .scalar_subquery()
    )
    query = select(ContactList.total_record_count, rows).where(
        ContactList.account_id == account_id, ContactList.id == list_id
    )
    async with sessions(app)() as session:
        total, found = (await session.execute(query)).one()
    return int(total), int(found)


async def jobs_of(app: FastAPI, account_id: str) -> list[Job]:
    async with sessions(app)() as session:
        query = select(Job).where(Job.account_id == account_id).order_by(Job.created_at, Job.id)
        return list((await session.scalars(query)).all())


async def error_rows(app: FastAPI, account_id: str, job_id: str) -> int:
    async with sessions(app)() as session:
        query = select(func.count()).where(
            JobError.account_id == account_id, JobError.job_id == job_id
        )
        return int(await session.scalar(query) or 0)


async def all_final(app: FastAPI, account_id: str, expected: int) -> bool:
    found = await jobs_of(app, account_id)
    return len(found) == expected and all(j.state in FINAL_STATES for j in found)


async def total_results(http: AsyncClient, tenant: Tenant, list_id: str) -> int:
    response = await http.get(
        f"{Paths('v1', tenant.bot).list(list_id)}/getAllContacts",
        params={"limit": 1},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    found: int = response.json()["data"]["totalResults"]
    return found


# ---------------------------------------------------------------- a. crash and resume

CRASH_CONTACTS = 200_000
RECOVERY_SECONDS = 90.0


async def test_a_server_killed_mid_import_resumes_and_stores_every_contact_once(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app = own.app
    tenant = await own.tenants.create()
    # Two in-process workers: one normalises while the other stores.
    env = service_settings(
        tmp_path, job_stale_seconds=2, import_batch_rows=2_000, normalise_processes=2, workers=2
    )
    server = started.serve(own.url, env)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        target = await create_list(http, tenant, "Crash", allowDuplicates=False)
        job_ids = [
            await add_contacts(http, tenant, "Crash", items(part))
            for part in chunks(phones(CRASH_CONTACTS), PER_CALL)
        ]
    assert len(job_ids) == CRASH_CONTACTS // PER_CALL

    async def partly_done() -> bool:
        return any(
            j.state == "running" and 0 < j.processed < (j.total or 0)
            for j in await jobs_of(app, tenant.account_id)
        )

    await wait_until(partly_done, "a job with partial progress", logs=started)
    server.kill()
    at_crash = {j.id: j for j in await jobs_of(app, tenant.account_id)}
    interrupted = [j.id for j in at_crash.values() if j.state == "running"]
    assert 1 <= len(interrupted) <= 2, at_crash
    assert sum(j.state == "completed" for j in at_crash.values()) < len(job_ids)

    restarted = started.serve(own.url, env)
    await wait_until(
        lambda: all_final(app, tenant.account_id, len(job_ids)),
        "every job to finish",
        RECOVERY_SECONDS,
        logs=started,
    )

    # The killed server's normalising helpers noticed and left on their own.
    async def orphans_gone() -> bool:
        return not server.helpers_alive()

    await wait_until(orphans_gone, "the killed server's helpers to exit", 10)

    async with httpx.AsyncClient(base_url=restarted.base_url, timeout=60) as http:
        for job_id in job_ids:
            report = await job(http, tenant, job_id)
            assert report["state"] == "completed", report
            assert report["total"] == report["processed"] == PER_CALL, report
            # Resumed where the last committed batch left it: no item seen twice.
            counts = (report["inserted"], report["duplicates"], report["invalid"])
            assert counts == (PER_CALL, 0, 0), report
        assert await total_results(http, tenant, target["_id"]) == CRASH_CONTACTS
        assert (await get_list(http, tenant, target["_id"]))["status"] == "Ready"
    assert await stored(app, tenant.account_id, target["_id"]) == (CRASH_CONTACTS, CRASH_CONTACTS)
    after = {j.id: j for j in await jobs_of(app, tenant.account_id)}
    for job_id in interrupted:
        assert after[job_id].takeovers >= 1, "an interrupted job is taken over"
        assert after[job_id].attempts == 1, "a crash is not a failed attempt"


# ---------------------------------------------------------------- b. several worker processes

LISTS = 10
JOB_SIZE = 5_000
OVERLAP = 2_500  # the two jobs of a list share this many numbers


async def test_workers_in_several_processes_run_every_job_exactly_once(
    own: OwnDatabase, started: Processes, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("several worker processes are a PostgreSQL deployment")
    app = own.app
    tenant = await own.tenants.create()
    env = service_settings(
        tmp_path,
        job_stale_seconds=5,
        import_batch_rows=1_000,
        normalise_processes=1,
        # Every duplicate's row error is kept, so that each is seen to be reported once.
        max_stored_row_errors=OVERLAP,
    )
    for _ in range(2):
        started.worker(own.url, env, count=2)
    server = started.serve(own.url, {**env, "CONTACTLISTS_WORKERS": "1"})
    names = [f"Shared {n}" for n in range(LISTS)]
    unique = 2 * JOB_SIZE - OVERLAP
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        targets = [await create_list(http, tenant, name) for name in names]
        # Each list gets two jobs that overlap by OVERLAP numbers, all queued at once.
        calls = []
        for index, name in enumerate(names):
            numbers = phones(unique, start=index * unique)
            for first in (0, JOB_SIZE - OVERLAP):
                calls.append((name, numbers[first : first + JOB_SIZE]))
        job_ids = await asyncio.gather(
            *(add_contacts(http, tenant, name, items(part)) for name, part in calls)
        )
        await wait_until(
            lambda: all_final(app, tenant.account_id, len(job_ids)),
            "every job to finish",
            logs=started,
        )
        counts = [await total_results(http, tenant, t["_id"]) for t in targets]

    found = {j.id: j for j in await jobs_of(app, tenant.account_id)}
    assert set(found) == set(job_ids)
    for one in found.values():
        assert one.state == "completed", (one.id, one.state, one.error)
        assert one.total == one.processed == JOB_SIZE
        assert one.inserted + one.duplicates + one.invalid == JOB_SIZE
        assert one.invalid == 0
        # Run once: claimed once, no takeover, every duplicate reported once.
        assert one.attempts == 1, (one.id, one.attempts)
        assert await error_rows(app, tenant.account_id, one.id) == one.duplicates
    for target, count in zip(targets, counts, strict=True):
        of_list = [j for j in found.values() if j.list_id == target["_id"]]
        assert len(of_list) == 2
        assert sum(j.inserted for j in of_list) == unique
        assert sum(j.duplicates for j in of_list) == OVERLAP
        assert count == unique
        assert await stored(app, tenant.account_id, target["_id"]) == (unique, unique)
    # The jobs really were shared out between the processes.
    pids = {(j.locked_by or "").split(":")[1] for j in found.values()}
    assert len(pids) >= 2, pids


# ---------------------------------------------------------------- c. concurrent imports, one list


async def test_concurrent_imports_into_one_list_keep_its_count_exact_throughout(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    await run_jobs()  # jobs other tests left queued must not be counted as ours
    target = await create_list(client, tenant, unique_name)
    list_id = target["_id"]
    numbers = phones(9_000, start=100_000)
    # Six jobs of 3,000; neighbours share 1,500 numbers, so 9,000 distinct in all.
    parts = [numbers[start : start + 3_000] for start in range(0, 7_500, 1_500)]
    parts.append(numbers[:1_500] + numbers[7_500:])
    for part in parts:
        await add_contacts(client, tenant, unique_name, items(part))

    small_batches = settings.model_copy(update={"import_batch_rows": 250})
    pools = [WorkerPool(sessions(app), small_batches, HANDLERS, count=0) for _ in range(2)]
    observations: list[tuple[int, int, int, int, int]] = []
    running = True

    async def observe() -> None:
        while running:
            before = (await stored(app, tenant.account_id, list_id))[0]
            shown = (await get_list(client, tenant, list_id))["totalRecordCount"]
            after = (await stored(app, tenant.account_id, list_id))[0]
            total, rows = await count_and_rows(app, tenant.account_id, list_id)
            observations.append((before, shown, after, total, rows))
            await asyncio.sleep(0)

    async def work() -> list[int]:
        nonlocal running
        try:
            return list(await asyncio.gather(*(pool.run_until_idle() for pool in pools)))
        finally:
            running = False

    try:
        async with asyncio.TaskGroup() as group:
            working = group.create_task(work())
            group.create_task(observe())
    finally:
        for pool in pools:
            await pool.stop()

    ran = working.result()
    assert sum(ran) == len(parts)
    assert all(ran), f"both workers should have run jobs: {ran}"
    assert len({o[3] for o in observations}) > 2, "observed while the count was changing"
    for before, shown, after, total, rows in observations:
        # The API shows a count between the rows stored just before and just after it...
        assert before <= shown <= after, observations
        # ...and in one snapshot the count is exactly the rows.
        assert total == rows, observations
    assert await count_and_rows(app, tenant.account_id, list_id) == (9_000, 9_000)
    assert await stored(app, tenant.account_id, list_id) == (9_000, 9_000)
    reports = await jobs_of(app, tenant.account_id)
    assert all(j.state == "completed" for j in reports)
    assert sum(j.inserted for j in reports) == 9_000
    assert sum(j.duplicates for j in reports) == len(parts) * 3_000 - 9_000


# ---------------------------------------------------------------- d. cancel


async def cancel(client: AsyncClient, tenant: Tenant, job_id: str) -> httpx.Response:
    return await client.post(
        f"{Paths('v2', tenant.bot).prefix}/jobs/{job_id}/cancel", headers=tenant.headers()
    )


async def test_a_cancelled_queued_job_imports_nothing(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(50)))

    response = await cancel(client, tenant, job_id)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["_id"], data["state"], data["processed"]) == (job_id, "cancelled", 0)
    assert data["finishedAt"] is not None

    await run_jobs()
    after = await job(client, tenant, job_id)
    assert (after["state"], after["processed"], after["inserted"]) == ("cancelled", 0, 0)
    assert await stored(app, tenant.account_id, target["_id"]) == (0, 0)
    listed = await get_list(client, tenant, target["_id"])
    assert (listed["totalRecordCount"], listed["status"]) == (0, "Ready")


async def test_cancelling_a_finished_job_leaves_it_as_it_is(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(20)))
    await run_jobs()
    finished = await job(client, tenant, job_id)
    assert finished["state"] == "completed"

    response = await cancel(client, tenant, job_id)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == finished
    assert await job(client, tenant, job_id) == finished


async def test_a_job_whose_list_was_deleted_before_it_ran_ends_cancelled(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(30)))
    deleted = await client.delete(
        Paths("v1", tenant.bot).list(target["_id"]), headers=tenant.headers()
    )
    assert deleted.status_code == 200, deleted.text

    await run_jobs()
    report = await job(client, tenant, job_id)
    assert (report["state"], report["processed"], report["inserted"]) == ("cancelled", 0, 0)
    assert await stored(app, tenant.account_id, target["_id"]) == (0, 0)


async def test_a_job_cancelled_while_running_stops_with_its_stored_batches_counted(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    await run_jobs()
    target = await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(PER_CALL)))
    pool = WorkerPool(
        sessions(app), settings.model_copy(update={"import_batch_rows": 100}), HANDLERS, count=0
    )
    worker = asyncio.create_task(pool.run_until_idle())

    async def started_importing() -> bool:
        processed: int = (await job(client, tenant, job_id))["processed"]
        return processed > 0

    try:
        await wait_until(started_importing, "the job's first batch")
        response = await cancel(client, tenant, job_id)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["state"] == "cancelled"
        assert await worker == 1
    finally:
        await asyncio.gather(worker, return_exceptions=True)
        await pool.stop()

    report = await job(client, tenant, job_id)
    assert report["state"] == "cancelled"
    assert 0 < report["processed"] < PER_CALL
    assert report["inserted"] == report["processed"]
    # The batches stored before the cancel stay, and the list counts exactly them.
    assert await stored(app, tenant.account_id, target["_id"]) == (report["inserted"],) * 2
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == report["inserted"]
    await run_jobs()
    assert await job(client, tenant, job_id) == report


# ---------------------------------------------------------------- e. stale takeover


async def test_a_stalled_workers_job_is_taken_over_and_its_late_writes_refused(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    await run_jobs()  # nothing else may be claimable
    stale = settings.model_copy(update={"job_stale_seconds": 1.0})
    target = await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(40)))

    async with sessions(app)() as session, session.begin():
        claimed = await repository.claim(
            session, worker="stalled", stale_after=timedelta(seconds=stale.job_stale_seconds)
        )
    assert claimed == (tenant.account_id, job_id)
    async with sessions(app)() as session:
        ghost_view = await repository.load(session, tenant.account_id, job_id)
    assert ghost_view is not None

    pool = WorkerPool(sessions(app), stale, HANDLERS, count=0)
    try:
        assert await pool.run_until_idle() == 0, "a fresh claim is not taken over"
        assert (await job(client, tenant, job_id))["state"] == "running"
        await asyncio.sleep(stale.job_stale_seconds + 0.2)
        assert await pool.run_until_idle() == 1
    finally:
        await pool.stop()

    report = await job(client, tenant, job_id)
    assert (report["state"], report["processed"], report["inserted"]) == ("completed", 40, 40)
    async with sessions(app)() as session, session.begin():
        late = await repository.advance(
            session, ghost_view, worker="stalled", cursor=40, processed=40,
            inserted=40, duplicates=0, invalid=0,
        )  # fmt: skip
        assert late is False
        assert await repository.heartbeat(session, ghost_view, worker="stalled") is False
        assert (
            await repository.finish(
                session, ghost_view, worker="stalled", state="failed", error="late"
            )
            is False
        )
    assert await job(client, tenant, job_id) == report
    (taken,) = await jobs_of(app, tenant.account_id)
    assert (taken.attempts, taken.takeovers) == (1, 1)
    assert taken.locked_by != "stalled"
    assert await stored(app, tenant.account_id, target["_id"]) == (40, 40)


async def test_a_slow_but_live_worker_keeps_its_job(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    """The heartbeat beats while a handler works, however long one batch takes."""
    await run_jobs()
    stale = settings.model_copy(update={"job_stale_seconds": 0.6})
    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, items(phones(10)))
    in_batch = asyncio.Event()
    release = asyncio.Event()

    async def slow_import(context: JobContext) -> None:
        # One "batch" of the real import that takes several stale periods to arrive.
        in_batch.set()
        await release.wait()
        await HANDLERS["add_contacts"](context)

    slow = WorkerPool(sessions(app), stale, {"add_contacts": slow_import}, count=0)
    other = WorkerPool(sessions(app), stale, HANDLERS, count=0)
    working = asyncio.create_task(slow.run_until_idle())
    try:
        await asyncio.wait_for(in_batch.wait(), WAIT_SECONDS)
        for _ in range(4):
            await asyncio.sleep(stale.job_stale_seconds)
            assert await other.run_until_idle() == 0, "a live worker's job was taken over"
        release.set()
        assert await working == 1
    finally:
        release.set()
        await asyncio.gather(working, return_exceptions=True)
        await slow.stop()
        await other.stop()
    report = await job(client, tenant, job_id)
    assert (report["state"], report["inserted"]) == ("completed", 10)
    (only,) = await jobs_of(app, tenant.account_id)
    assert only.attempts == 1


# ---------------------------------------------------------------- the worker command


async def test_worker_stops_on_sigterm_after_its_batch_and_hands_the_job_back(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    app, client = own.app, own.client
    tenant = await own.tenants.create()
    target = await create_list(client, tenant, "Handed back")
    job_id = await add_contacts(client, tenant, "Handed back", items(phones(PER_CALL)))
    env = service_settings(tmp_path, import_batch_rows=100, normalise_processes=1)
    worker = started.worker(own.url, env)
    assert "running 1 job worker" in worker.output

    async def importing() -> bool:
        processed: int = (await job(client, tenant, job_id))["processed"]
        return processed > 0

    await wait_until(importing, "the worker's first batch", logs=started)
    worker.signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait) == 0, worker.output
    assert "stopped" in worker.output

    report = await job(client, tenant, job_id)
    assert report["state"] == "queued", report
    assert 0 < report["processed"] < PER_CALL
    (handed_back,) = await jobs_of(app, tenant.account_id)
    # Handed back, not failed: the attempt does not count.
    assert (handed_back.locked_by, handed_back.attempts) == (None, 0)
    assert await stored(app, tenant.account_id, target["_id"]) == (report["inserted"],) * 2

    assert await own.run_jobs() == 1
    report = await job(client, tenant, job_id)
    assert (report["state"], report["processed"]) == ("completed", PER_CALL)
    assert (report["inserted"], report["duplicates"]) == (PER_CALL, 0)
    assert await stored(app, tenant.account_id, target["_id"]) == (PER_CALL, PER_CALL)


def schema_revision(database_url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(database_url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_worker_refuses_a_database_whose_schema_is_not_current(
    fresh_database: DatabaseFactory, backend: str, tmp_path: Path
) -> None:
    url = fresh_database.create(backend)
    migrate.upgrade(url, "0001_initial")
    worker = spawn("worker", ["worker", "--database-url", url], tmp_path / "w.log", {})
    try:
        assert worker.wait(30) == 1
    finally:
        worker.stop()
    lines = worker.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "0001_initial" in lines[0]
    assert str(migrate.head_revision()) in lines[0]
    assert "contactlists db upgrade" in lines[0]
    assert schema_revision(url) == "0001_initial", "the worker changed the schema"


def test_worker_help_describes_the_command_and_every_option() -> None:
    runner = CliRunner()
    root = runner.invoke(cli, ["--help"], env={"COLUMNS": "200"})
    assert root.exit_code == 0, root.output
    assert "worker" in root.stdout
    result = runner.invoke(cli, ["worker", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Run job workers only (no HTTP)" in text
    assert "--count" in text
    assert "Workers (concurrent jobs) in this process" in text
    assert "--database-url" in text
    assert "CONTACTLISTS_DATABASE_URL" in text
