"""The job worker: claims jobs, runs their handlers, and survives everything but the database.

Workers run inside ``contactlists serve`` (``CONTACTLISTS_WORKERS``, default 1) or alone
in ``contactlists worker``. Any number of them may share one database: claims are atomic
and a handler's every step is conditional on still owning its job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.jobs import repository
from contactlists.jobs.models import Job

log = logging.getLogger("contactlists.jobs")

T = TypeVar("T")


class JobLost(Exception):
    """The job was cancelled, or taken over by another worker: stop without a trace."""


@dataclass
class JobContext:
    job: Job
    worker: str
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    executor: Executor

    async def offload(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work (phone parsing) off the event loop, on another core if possible."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)


Handler = Callable[[JobContext], Awaitable[None]]


def new_worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def make_executor(processes: int) -> Executor:
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="normalise")
    # spawn, not fork: the parent has an event loop and database threads a fork would copy.
    return ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"))


class WorkerPool:
    """``count`` workers in this event loop, sharing one executor for CPU-bound work."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        handlers: dict[str, Handler],
        *,
        count: int | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.handlers = handlers
        self.count = settings.workers if count is None else count
        self.executor = make_executor(settings.normalise_processes)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for _ in range(self.count):
            self._tasks.append(asyncio.create_task(self._loop(new_worker_name())))

    async def stop(self) -> None:
        """Finish the batches in hand, then stop; unfinished jobs resume elsewhere or later."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def run_until_idle(self) -> int:
        """Run jobs until none is left to claim; how many ran. For tests and one-shot runs."""
        worker = new_worker_name()
        ran = 0
        while await self.run_one(worker):
            ran += 1
        return ran

    async def _loop(self, worker: str) -> None:
        while not self._stop.is_set():
            try:
                ran = await self.run_one(worker)
            except Exception:
                # The database may be away; wait and try again rather than die.
                log.exception("worker %s could not claim a job", worker)
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.settings.job_poll_seconds)

    async def run_one(self, worker: str) -> bool:
        stale_after = timedelta(seconds=self.settings.job_stale_seconds)
        async with self.sessionmaker() as session, session.begin():
            claimed = await repository.claim(session, worker=worker, stale_after=stale_after)
        if claimed is None:
            return False
        async with self.sessionmaker() as session:
            job = await repository.load(session, *claimed)
        assert job is not None
        await self._run(job, worker)
        return True

    async def _run(self, job: Job, worker: str) -> None:
        if job.attempts > self.settings.job_max_attempts:
            await self._finish(job, worker, "failed", f"gave up after {job.attempts - 1} attempts")
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self._finish(job, worker, "failed", f"no handler for jobs of kind {job.kind}")
            return
        context = JobContext(job, worker, self.settings, self.sessionmaker, self.executor)
        try:
            await handler(context)
        except JobLost:
            log.info("job %s was cancelled or taken over; %s let it go", job.id, worker)
        except Exception as exc:
            log.exception("job %s failed in %s (attempt %d)", job.id, worker, job.attempts)
            async with self.sessionmaker() as session, session.begin():
                await repository.release(session, job, worker=worker, error=type(exc).__name__)

    async def _finish(self, job: Job, worker: str, state: str, error: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await repository.finish(session, job, worker=worker, state=state, error=error)


def batched(items: Iterable[T], size: int) -> Iterable[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
