"""An upload's file, when it is not where the worker looks, and when nothing needs it any more.

A worker that cannot find an upload's file tries again after a pause (another worker may see
it, or the shared directory may be back), and once the job's attempts are spent fails it with a
message naming the data directory. Files no queued or running upload needs (a crash left them)
are swept by the worker pool once older than the grace period; the files of live uploads, young
files and files that are not uploads are left alone.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.config import Settings
from contactlists.jobs import repository
from contactlists.jobs.worker import WorkerPool
from contactlists.models.jobs import Job
from contactlists.observability.metrics import Metrics
from contactlists.tasks import HANDLERS
from tests.support.contacts import create_list
from tests.support.durable import OwnDatabase, sessions, wait_until
from tests.support.tenants import Tenant
from tests.support.uploads import csv_bytes, upload_ok

pytestmark = pytest.mark.anyio

ROWS = [["phoneNumber", "firstName"], *([f"+121255501{n:02d}", f"Name {n}"] for n in range(12))]


def uploads_of(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


async def stored_job(app: FastAPI, account_id: str, job_id: str) -> Job:
    async with sessions(app)() as session:
        found = await session.get(Job, (account_id, job_id), populate_existing=True)
    assert found is not None
    return found


def the_file(settings: Settings, before: set[Path]) -> Path:
    (added,) = set(uploads_of(settings).iterdir()) - before
    return added


def retries(metrics: Metrics, kind: str, cause: str) -> float:
    value = metrics.registry.get_sample_value(
        "contactlists_job_retries_total", {"kind": kind, "cause": cause}
    )
    return value or 0.0


def quick_retries(settings: Settings, **more: object) -> Settings:
    # Long enough that a pool going idle on a busy machine does not find the job due again.
    return settings.model_copy(
        update={"job_retry_seconds": 0.5, "job_retry_max_seconds": 0.5, **more}
    )


async def run_until_ended(pool: WorkerPool, app: FastAPI, account_id: str, job_id: str) -> Job:
    """Run the pool until the job ends; a job waiting for its next try is waited for."""
    deadline = time.monotonic() + 30
    while (found := await stored_job(app, account_id, job_id)).state not in (
        "completed",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, (found.state, found.attempts, found.error)
        await pool.run_until_idle()
        await asyncio.sleep(0.02)
    return found


async def test_a_missing_file_is_tried_again_then_fails_naming_the_data_directory(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    unique_name: str,
) -> None:
    uploads_of(settings).mkdir(parents=True, exist_ok=True)
    before = set(uploads_of(settings).iterdir())
    target = await create_list(client, tenant, unique_name)
    job_id = await upload_ok(client, tenant, target["_id"], csv_bytes(ROWS))
    stored = the_file(settings, before)
    stored.unlink()  # as a worker on a host that does not share the directory sees it

    metrics = Metrics()
    pool = WorkerPool(
        sessions(app), quick_retries(settings, job_max_attempts=3), HANDLERS, count=0,
        metrics=metrics,
    )  # fmt: skip
    try:
        await pool.run_until_idle()
        waiting = await stored_job(app, tenant.account_id, job_id)
        # Not failed on the first try: back in the queue, for this or another worker.
        assert (waiting.state, waiting.attempts) == ("queued", 1), waiting.error
        ended = await run_until_ended(pool, app, tenant.account_id, job_id)
    finally:
        await pool.stop()

    assert (ended.state, ended.attempts, ended.processed) == ("failed", 3, 0)
    assert ended.error is not None
    assert stored.name in ended.error
    assert str(settings.data_dir.resolve()) in ended.error
    assert "CONTACTLISTS_DATA_DIR" in ended.error
    assert retries(metrics, "upload", "error") == 2


async def test_a_file_that_appears_before_the_attempts_are_spent_is_imported(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    settings: Settings,
    unique_name: str,
) -> None:
    uploads_of(settings).mkdir(parents=True, exist_ok=True)
    before = set(uploads_of(settings).iterdir())
    target = await create_list(client, tenant, unique_name)
    job_id = await upload_ok(client, tenant, target["_id"], csv_bytes(ROWS))
    stored = the_file(settings, before)
    aside = stored.with_name("elsewhere")
    stored.rename(aside)

    pool = WorkerPool(sessions(app), quick_retries(settings), HANDLERS, count=0)
    try:
        await pool.run_until_idle()
        assert (await stored_job(app, tenant.account_id, job_id)).state == "queued"
        aside.rename(stored)  # the shared directory is back
        ended = await run_until_ended(pool, app, tenant.account_id, job_id)
    finally:
        await pool.stop()

    assert (ended.state, ended.inserted) == ("completed", len(ROWS) - 1)
    # At least the try that missed the file and the one that found it; on a busy machine a
    # further try may miss it too before the rename, within the attempts the job has.
    assert 2 <= ended.attempts <= settings.job_max_attempts
    assert not stored.exists(), "the file goes once its job is over"


# ---------------------------------------------------------------- orphaned files

HOUR = 3600


def orphan(directory: Path, age_seconds: float) -> Path:
    """A file named as uploads are, as a crash mid-upload leaves one, ``age_seconds`` old."""
    path = directory / f"{secrets.token_hex(12)}.upload"
    path.write_bytes(b"phoneNumber\n+12125550100\n")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


async def test_the_pool_sweeps_files_no_live_upload_needs(own: OwnDatabase) -> None:
    app, client = own.app, own.client
    settings: Settings = app.state.settings.model_copy(
        update={"upload_orphan_seconds": 60, "upload_sweep_seconds": 0.2}
    )
    directory = uploads_of(settings)
    tenant = await own.tenants.create()
    directory.mkdir(parents=True, exist_ok=True)
    target = await create_list(client, tenant, "Swept")
    job_id = await upload_ok(client, tenant, target["_id"], csv_bytes(ROWS))
    (needed,) = directory.iterdir()
    # Its upload is running in another worker, alive: its file is needed, however old.
    async with sessions(app)() as session, session.begin():
        claimed = await repository.claim(
            session, worker="elsewhere", stale_after=timedelta(hours=1)
        )
    assert claimed == (tenant.account_id, job_id)
    os.utime(needed, (time.time() - 2 * HOUR, time.time() - 2 * HOUR))
    old = orphan(directory, 2 * HOUR)
    young = orphan(directory, 10)
    not_an_upload = directory / "notes.txt"
    not_an_upload.write_text("kept")
    os.utime(not_an_upload, (time.time() - 2 * HOUR, time.time() - 2 * HOUR))

    pool = WorkerPool(sessions(app), settings, HANDLERS, count=1)
    pool.start()
    try:

        async def gone(path: Path) -> bool:
            return not path.exists()

        await wait_until(lambda: gone(old), "the old orphan to be swept", 20)
        # Swept again and again, not only at the start.
        later = orphan(directory, 2 * HOUR)
        await wait_until(lambda: gone(later), "a later orphan to be swept", 20)
    finally:
        await pool.stop()
    assert needed.exists(), "a live upload's file is kept"
    assert young.exists(), "a file younger than the grace period is kept"
    assert not_an_upload.exists(), "only uploads are swept"
    assert (await stored_job(app, tenant.account_id, job_id)).locked_by == "elsewhere"
