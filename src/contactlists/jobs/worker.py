"""The job worker: claims jobs, runs their handlers, and survives anything, database outages too.

Workers run inside ``contactlists serve`` (``CONTACTLISTS_WORKERS``, default 1) or alone
in ``contactlists worker``. Any number of them may share one database: claims are atomic
and a handler's every step is conditional on still owning its job.

While a handler runs, its worker beats the job's heartbeat every third of
``job_stale_seconds``, so a slow batch is never mistaken for a dead worker; only a worker
that stopped (killed, or cut off from the database) lets its job go stale and be taken
over. Handlers call :meth:`JobContext.checkpoint` (``offload`` does) between batches: there
a job that was cancelled or taken over stops, and a stopping pool hands its job back.

While the database is away (``db.unavailable``) a worker logs it once and tries again at
growing intervals; a job it interrupted is handed back, uncounted, once the database answers.

A crash is not a failure: a job taken over from a worker that went silent spends no attempt
(``takeovers`` counts them). A failed attempt is tried again after a pause that doubles each
time (``job_retry_seconds`` up to ``job_retry_max_seconds``); a job fails once its
``job_max_attempts`` are spent, except the kinds registered as persistent (the purge of a
deleted list), which never give up. ``/metrics`` counts the retries of both causes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing import get_context
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.db.unavailable import is_unavailable
from contactlists.jobs import repository
from contactlists.jobs.outage import Outage
from contactlists.models.base import utcnow
from contactlists.models.jobs import FINAL_STATES, Job
from contactlists.observability import logs
from contactlists.observability.metrics import Metrics

log = logging.getLogger("contactlists.jobs")

T = TypeVar("T")


class JobLost(Exception):
    """The job was cancelled, or taken over by another worker: stop without a trace."""


class WorkerStopping(Exception):
    """The pool is stopping: the handler stops between batches; its job goes back to the queue."""


class RetryLater(Exception):
    """The handler cannot do its job here and now (a file this worker cannot see, say).

    A failed attempt like any other, but an expected one: ``message`` becomes the job's error,
    with no traceback in the log; the job is tried again after a pause, and once its attempts
    are spent it fails with ``message``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class JobContext:
    job: Job
    worker: str
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    executor: Executor
    metrics: Metrics
    # Set by the pool when it stops; the handler then stops at its next checkpoint.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Set by the heartbeat when the job is no longer this worker's (cancelled or taken over).
    lost: bool = False

    def checkpoint(self) -> None:
        """Between batches: stop if the job was lost (JobLost) or the pool is stopping."""
        if self.lost:
            raise JobLost()
        if self.stopping.is_set():
            raise WorkerStopping()

    async def offload(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work (phone parsing) off the event loop, on another core if possible.

        A checkpoint first: handlers offload once per batch, before the batch's work.
        """
        self.checkpoint()
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)


Handler = Callable[[JobContext], Awaitable[None]]
# Run once a job has ended (completed, failed, cancelled or removed), by the worker that saw it
# end, whatever ended it: what the job held outside the database goes (an upload's file).
Ended = Callable[[Job, Settings], Awaitable[None]]
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Chore:
    """Work a pool does beside its jobs: at its start, then every ``every(settings)`` seconds."""

    name: str
    run: Callable[[Sessions, Settings], Awaitable[None]]
    every: Callable[[Settings], float]


class Handlers(dict[str, Handler]):
    """The handler of each kind of job, and what the pool does around them.

    ``ended``: per kind, what to do once a job has ended; ``persistent``: the kinds that never
    give up (retried with growing pauses however often they fail); ``chores``: periodic work,
    done by every pool that runs workers. A plain mapping of handlers is a registry without any.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        ended: Mapping[str, Ended] | None = None,
        persistent: Iterable[str] = (),
        chores: Iterable[Chore] = (),
    ) -> None:
        super().__init__(handlers)
        self.ended: dict[str, Ended] = dict(ended or {})
        self.persistent = frozenset(persistent)
        self.chores = tuple(chores)


MAX_BACKOFF_DOUBLINGS = 30


def retry_delay(settings: Settings, attempts: int) -> float:
    """The pause before the next try of a job that failed ``attempts`` times: doubling, capped."""
    doublings = min(max(attempts - 1, 0), MAX_BACKOFF_DOUBLINGS)
    return float(min(settings.job_retry_seconds * 2**doublings, settings.job_retry_max_seconds))


def new_worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


PARENT_CHECK_SECONDS = 1.0
MAX_ERROR_LENGTH = 1000  # job.error


def _prepare_helper() -> None:
    """Start of a normalising process: it stops with its parent, and only with its parent."""
    # Ctrl-C reaches the whole process group: the parent decides when its helpers stop, so a
    # batch in hand can still be finished after the first interrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright (SIGKILL, out of memory) cannot stop its helpers; they would
    # wait for work forever. They notice that they were orphaned and leave.
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def make_executor(processes: int) -> Executor:
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="normalise")
    # spawn, not fork: the parent has an event loop and database threads a fork would copy.
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=get_context("spawn"), initializer=_prepare_helper
    )


class WorkerPool:
    """``count`` workers in this event loop, sharing one executor for CPU-bound work."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        handlers: Mapping[str, Handler],
        *,
        count: int | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.handlers = handlers
        registry = handlers if isinstance(handlers, Handlers) else Handlers(handlers)
        self.ended = registry.ended
        self.persistent = registry.persistent
        self.chores = registry.chores
        self.metrics = metrics or Metrics()
        self.count = settings.workers if count is None else count
        self.executor = make_executor(settings.normalise_processes)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.metrics.job_workers.set(self.count)
        for _ in range(self.count):
            self._tasks.append(asyncio.create_task(self._loop(new_worker_name())))
        if self.count:
            # Chores belong to the pools that run jobs, not to a `serve` whose workers run
            # elsewhere. Several pools doing them at once is harmless.
            for chore in self.chores:
                self._tasks.append(asyncio.create_task(self._chore(chore)))

    async def stop(self) -> None:
        """Finish the batches in hand, then stop; unfinished jobs go back to the queue."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.metrics.job_workers.set(0)
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def run_until_idle(self) -> int:
        """Run jobs until none is left to claim; how many ran. For tests and one-shot runs."""
        worker = new_worker_name()
        ran = 0
        while await self.run_one(worker):
            ran += 1
        return ran

    async def _loop(self, worker: str) -> None:
        outage = Outage(worker, self.settings.job_poll_seconds)
        while not self._stop.is_set():
            pause = self.settings.job_poll_seconds
            try:
                ran = await self.run_one(worker)
            except Exception as exc:
                # The database may be away; wait and try again rather than die.
                pause = outage.failed(exc, "claim or run a job")
                ran = False
            else:
                outage.succeeded()
            if not ran:
                await self._pause(pause)

    async def _chore(self, chore: Chore) -> None:
        outage = Outage(f"{new_worker_name()} ({chore.name})", self.settings.job_poll_seconds)
        while not self._stop.is_set():
            try:
                await chore.run(self.sessionmaker, self.settings)
            except Exception as exc:
                outage.failed(exc, chore.name)
            else:
                outage.succeeded()
            if await self._pause(chore.every(self.settings)):
                return

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the pool stops meanwhile; whether it is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _hand_back(self, job: Job, worker: str, *, took_over: bool) -> None:
        """Requeue a job the database's absence interrupted, as soon as it answers again.

        The attempt does not count: the job did not fail. Its last committed batch is where
        the next run starts; the batch in flight was rolled back, or committed if only the
        answer to its commit was lost, and the job's cursor says which. A pool that stops
        first leaves the job to be taken over once stale.
        """
        outage = Outage(worker, self.settings.job_poll_seconds)
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    await repository.hand_back(session, job, worker=worker, took_over=took_over)
            except Exception as exc:
                if await self._pause(outage.failed(exc, f"hand job {job.id} back")):
                    return
            else:
                outage.succeeded()
                return

    async def run_one(self, worker: str) -> bool:
        stale_after = timedelta(seconds=self.settings.job_stale_seconds)
        async with self.sessionmaker() as session, session.begin():
            claimed = await repository.claim_next(session, worker=worker, stale_after=stale_after)
        if claimed is None:
            return False
        async with self.sessionmaker() as session:
            job = await repository.load(session, claimed.account_id, claimed.id)
        assert job is not None
        if claimed.takeover:
            log.warning(
                "job %s taken over by %s: its worker went silent (takeover %d)",
                job.id,
                worker,
                job.takeovers,
            )
            self.metrics.job_retried(job.kind, "takeover")
        await self._run(job, worker, took_over=claimed.takeover)
        return True

    async def _run(self, job: Job, worker: str, *, took_over: bool) -> None:
        with logs.bound(logs.LogContext(account=job.account_id, job=job.id)):
            try:
                await self._attempt(job, worker, took_over=took_over)
            finally:
                await self._after(job, worker)

    async def _after(self, job: Job, worker: str) -> None:
        """Once an attempt is over: if the job has ended, count it and run its kind's ``ended``.

        Whatever the attempt's ending: the handler finished it, the pool gave up on it, or it
        was cancelled while running (the handler then stopped with JobLost), or removed. A job
        released for another try, or taken over by another worker, is not over yet and is
        counted where it ends: by the worker that finished it (``locked_by`` stays), or by the
        one running it when it was cancelled (a cancel clears ``locked_by``).
        """
        try:
            async with self.sessionmaker() as session:
                ended = await repository.load(session, job.account_id, job.id)
        except Exception:
            log.warning("job %s: could not read its final state", job.id)
            return
        if ended is not None:
            if ended.state not in FINAL_STATES or ended.locked_by not in (worker, None):
                return
            seconds = None
            if ended.started_at is not None and ended.finished_at is not None:
                seconds = (ended.finished_at - ended.started_at).total_seconds()
            self.metrics.job_finished(ended.kind, ended.state, seconds)
        # A job removed meanwhile (the purge of its list) has ended too.
        cleanup = self.ended.get(job.kind)
        if cleanup is None:
            return
        try:
            await cleanup(ended or job, self.settings)
        except Exception:
            log.exception("job %s: what it held could not all be removed", job.id)

    async def _attempt(self, job: Job, worker: str, *, took_over: bool) -> None:
        persistent = job.kind in self.persistent
        if not persistent and job.attempts > self.settings.job_max_attempts:
            # Spent before this claim (the setting was lowered since): never run again.
            await self._finish(job, worker, "failed", f"gave up after {job.attempts - 1} attempts")
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self._finish(job, worker, "failed", f"no handler for jobs of kind {job.kind}")
            return
        context = JobContext(
            job,
            worker,
            self.settings,
            self.sessionmaker,
            self.executor,
            self.metrics,
            stopping=self._stop,
        )
        done = asyncio.Event()
        beating = asyncio.create_task(self._heartbeat(context, done))
        try:
            await handler(context)
        except JobLost:
            log.info("job %s was cancelled or taken over; %s let it go", job.id, worker)
        except WorkerStopping:
            log.info("job %s goes back to the queue: %s is stopping", job.id, worker)
            async with self.sessionmaker() as session, session.begin():
                await repository.hand_back(session, job, worker=worker, took_over=took_over)
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("job %s interrupted in %s: the database is unavailable", job.id, worker)
                await self._hand_back(job, worker, took_over=took_over)
                return
            if isinstance(exc, RetryLater):
                log.warning(
                    "job %s (attempt %d) cannot run in %s: %s",
                    job.id,
                    job.attempts,
                    worker,
                    exc.message,
                )
                error = exc.message
            else:
                log.exception("job %s failed in %s (attempt %d)", job.id, worker, job.attempts)
                error = type(exc).__name__
            if isinstance(exc, BrokenExecutor):
                self._replace_executor(context.executor)
            await self._failed(job, worker, error, persistent=persistent)
        finally:
            # Not cancelled: a heartbeat in the middle of its statement is let finish.
            done.set()
            await beating

    async def _failed(self, job: Job, worker: str, error: str, *, persistent: bool) -> None:
        """After a failed attempt: try again after a pause, or give up if its attempts are spent."""
        error = error[:MAX_ERROR_LENGTH]
        if not persistent and job.attempts >= self.settings.job_max_attempts:
            given_up = f"gave up after {job.attempts} attempts: {error}"
            await self._finish(job, worker, "failed", given_up[:MAX_ERROR_LENGTH])
            return
        retry_after: datetime = utcnow() + timedelta(
            seconds=retry_delay(self.settings, job.attempts)
        )
        async with self.sessionmaker() as session, session.begin():
            await repository.release(
                session, job, worker=worker, error=error, retry_after=retry_after
            )
        self.metrics.job_retried(job.kind, "error")

    async def _heartbeat(self, context: JobContext, done: asyncio.Event) -> None:
        """Beat the job's heartbeat until ``done``; mark the context lost when the job is gone."""
        interval = self.settings.job_stale_seconds / 3
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), interval)
                return
            try:
                async with self.sessionmaker() as session, session.begin():
                    mine = await repository.heartbeat(session, context.job, worker=context.worker)
            except Exception:
                log.warning(
                    "job %s: %s could not beat its heartbeat", context.job.id, context.worker
                )
                continue
            if not mine:
                context.lost = True
                return

    def _replace_executor(self, broken: Executor) -> None:
        """A helper process died (killed, out of memory): later batches get fresh ones."""
        if self.executor is broken:
            self.executor = make_executor(self.settings.normalise_processes)
            broken.shutdown(wait=False, cancel_futures=True)

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
