"""All SQL for jobs: enqueue, the atomic claim, conditional progress, finish and cancel.

Every statement that ends a job (finish, the cancels) drops its input data (``input_data``,
the items of an addContacts call) in that same statement: an ended job holds no contact.
A job that completes or fails is told to the webhooks in the transaction of that statement.

Every change a worker makes to its job is conditional on still owning it (``locked_by``)
and on the job still running, so a cancelled job or one taken over by another worker
after a stall cannot be advanced twice: the losing transaction changes nothing and is
rolled back with the batch it carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.base import utcnow
from contactlists.models.jobs import ACTIVE_STATES, Job, JobError
from contactlists.webhooks import events
from contactlists.webhooks import service as webhooks


def _held_by(job: Job, worker: str) -> list[ColumnElement[bool]]:
    """The job, still running and still owned by ``worker``: every worker write is conditional."""
    return [
        Job.account_id == job.account_id,
        Job.id == job.id,
        Job.locked_by == worker,
        Job.state == "running",
    ]


async def add(session: AsyncSession, job: Job) -> None:
    session.add(job)
    await session.flush()


async def get(session: AsyncSession, *, account_id: str, bot_id: str, job_id: str) -> Job | None:
    return await session.scalar(
        select(Job).where(Job.account_id == account_id, Job.bot_id == bot_id, Job.id == job_id)
    )


async def recent(
    session: AsyncSession, *, account_id: str, bot_id: str, limit: int
) -> Sequence[Job]:
    """The bot's most recent jobs, of every kind, the newest first."""
    query = (
        select(Job)
        .where(Job.account_id == account_id, Job.bot_id == bot_id)
        .order_by(Job.created_at.desc(), Job.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def load(session: AsyncSession, account_id: str, job_id: str) -> Job | None:
    return await session.get(Job, (account_id, job_id), populate_existing=True)


async def claim(
    session: AsyncSession, *, worker: str, stale_after: timedelta
) -> tuple[str, str] | None:
    """Take a job for ``worker``: a stalled one, else the oldest due; its (account_id, id)."""
    claimed = await claim_next(session, worker=worker, stale_after=stale_after)
    return None if claimed is None else (claimed.account_id, claimed.id)


class Claimed(NamedTuple):
    account_id: str
    id: str
    # Taken over from a worker gone silent, rather than started from the queue.
    takeover: bool


async def claim_next(
    session: AsyncSession, *, worker: str, stale_after: timedelta
) -> Claimed | None:
    """Take a running job whose worker went silent, else the oldest due queued job, or None.

    A stalled job comes first: it was started before anything still queued. Its takeover is
    counted in ``takeovers`` and spends no attempt (its worker was killed or cut off; the job
    did not fail); a queued job's claim is an attempt. Each is one statement, so two workers
    never take the same job: PostgreSQL skips rows another transaction has locked; SQLite runs
    one writer at a time (and the first statement, a write, takes its lock for both).
    """
    now = utcnow()
    stalled = and_(Job.state == "running", Job.heartbeat_at < now - stale_after)
    taken = await _claim(session, worker, now, stalled, takeovers=Job.takeovers + 1)
    if taken is not None:
        return Claimed(*taken, takeover=True)
    due = and_(Job.state == "queued", Job.run_after <= now)
    started = await _claim(session, worker, now, due, attempts=Job.attempts + 1)
    return None if started is None else Claimed(*started, takeover=False)


async def _claim(
    session: AsyncSession,
    worker: str,
    now: datetime,
    claimable: ColumnElement[bool],
    **counted: Any,
) -> tuple[str, str] | None:
    candidates = (
        select(Job.account_id, Job.id).where(claimable).order_by(Job.run_after, Job.id).limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    picked = candidates.cte("picked")
    statement = (
        update(Job)
        .where(Job.account_id == picked.c.account_id, Job.id == picked.c.id)
        .values(
            state="running",
            locked_by=worker,
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
            **counted,
        )
        .returning(Job.account_id, Job.id)
    )
    row = (await session.execute(statement)).first()
    return (row[0], row[1]) if row else None


async def advance(
    session: AsyncSession,
    job: Job,
    *,
    worker: str,
    cursor: int,
    processed: int,
    inserted: int,
    duplicates: int,
    invalid: int,
    unverified: int = 0,
    updated: int = 0,
    removed: int = 0,
    restored: int = 0,
) -> bool:
    """Record one batch's progress, if ``worker`` still owns the running job at its cursor."""
    result = await session.execute(
        update(Job)
        .where(*_held_by(job, worker), Job.progress_cursor == job.progress_cursor)
        .values(
            progress_cursor=cursor,
            processed=Job.processed + processed,
            inserted=Job.inserted + inserted,
            duplicates=Job.duplicates + duplicates,
            invalid=Job.invalid + invalid,
            unverified=Job.unverified + unverified,
            updated=Job.updated + updated,
            removed=Job.removed + removed,
            restored=Job.restored + restored,
            heartbeat_at=utcnow(),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession,
    job: Job,
    *,
    worker: str,
    state: str,
    error: str | None = None,
    total: int | None = None,
) -> bool:
    """End the job ``worker`` holds, dropping its input data in the same statement."""
    values: dict[str, Any] = {
        "state": state,
        "finished_at": utcnow(),
        "error": error,
        "input_data": None,
    }
    if total is not None:
        values["total"] = total
    statement = (
        update(Job)
        .where(*_held_by(job, worker))
        .values(**values)
        .returning(
            Job.bot_id,
            Job.list_id,
            Job.total,
            Job.processed,
            Job.inserted,
            Job.duplicates,
            Job.invalid,
        )
    )
    ended = (await session.execute(statement)).first()
    if ended is None:
        return False
    if state in events.JOB_END_EVENTS:
        # In the statement's transaction: the event commits with the job's end, or neither.
        bot_id, list_id, total_now, processed, inserted, duplicates, invalid = ended
        await webhooks.record_event(
            session,
            account_id=job.account_id,
            bot_id=bot_id,
            event_type=events.JOB_END_EVENTS[state],
            data=events.job_data(
                job_id=job.id,
                kind=job.kind,
                bot_id=bot_id,
                list_id=list_id,
                state=state,
                counts={
                    "total": total_now,
                    "processed": processed,
                    "inserted": inserted,
                    "duplicates": duplicates,
                    "invalid": invalid,
                },
                error=error,
            ),
        )
    return True


async def heartbeat(session: AsyncSession, job: Job, *, worker: str) -> bool:
    """Show that ``worker`` is alive on its job; False when the job is no longer its own."""
    result = await session.execute(
        update(Job).where(*_held_by(job, worker)).values(heartbeat_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(
    session: AsyncSession,
    job: Job,
    *,
    worker: str,
    error: str | None = None,
    retry_after: datetime | None = None,
) -> None:
    """Give a job back to the queue, to be tried again (not before ``retry_after``, if given).

    The claim that started this attempt counted it; a job handed back by a worker that is
    stopping, or cut off from the database, has not failed: that claim is taken back. A job
    released after a failure keeps the attempt and waits ``retry_after``.
    """
    values: dict[str, Any] = {"state": "queued", "locked_by": None, "heartbeat_at": None}
    if error is not None:
        values["error"] = error
    if retry_after is not None:
        values["run_after"] = retry_after
    await session.execute(update(Job).where(*_held_by(job, worker)).values(**values))


async def hand_back(session: AsyncSession, job: Job, *, worker: str, took_over: bool) -> None:
    """Return a job that did not fail (the worker stops, or lost the database): no attempt spent.

    Only the claim of a queued job counts an attempt, so only then is it taken back; a job
    this worker took over (``took_over``) spent none.
    """
    await session.execute(
        update(Job)
        .where(*_held_by(job, worker))
        .values(
            state="queued",
            locked_by=None,
            heartbeat_at=None,
            attempts=Job.attempts - (0 if took_over else 1),
        )
    )


async def cancel(
    session: AsyncSession, *, account_id: str, bot_id: str, job_id: str, kinds: Sequence[str]
) -> None:
    await session.execute(
        update(Job)
        .where(Job.account_id == account_id, Job.bot_id == bot_id, Job.id == job_id)
        .where(Job.state.in_(ACTIVE_STATES), Job.kind.in_(kinds))
        .values(
            state="cancelled",
            finished_at=utcnow(),
            locked_by=None,
            input_data=None,
        )
    )


async def cancel_for_list(
    session: AsyncSession, *, account_id: str, list_id: str, kinds: Sequence[str], error: str
) -> Sequence[Job]:
    """Cancel the list's queued and running jobs of these kinds (its imports, when it goes).

    A worker in the middle of a batch finds its job cancelled when it writes, and its batch
    is rolled back. Returns the jobs cancelled.
    """
    statement = (
        update(Job)
        .where(
            Job.account_id == account_id,
            Job.list_id == list_id,
            Job.kind.in_(kinds),
            Job.state.in_(ACTIVE_STATES),
        )
        .values(
            state="cancelled",
            finished_at=utcnow(),
            locked_by=None,
            error=error,
            input_data=None,
        )
        .returning(Job)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).all()


async def cancel_waiting(
    session: AsyncSession, *, account_id: str, list_id: str, kind: str, error: str
) -> bool:
    """Cancel the list's job of ``kind`` that waits for its first start; False if there is none.

    Conditional on the job still waiting (queued, not yet due, never started), so it is
    exclusive with the claim: a job cannot be both cancelled here and started by a worker, and
    one that started (then waits for another try) is not cancelled here.
    """
    result = await session.execute(
        update(Job)
        .where(
            Job.account_id == account_id,
            Job.list_id == list_id,
            Job.kind == kind,
            Job.state == "queued",
            Job.run_after > utcnow(),
            Job.started_at.is_(None),
        )
        .values(state="cancelled", finished_at=utcnow(), error=error, input_data=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_errors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(JobError), list(rows))


async def errors(
    session: AsyncSession, job: Job, *, limit: int, after_row: int = 0
) -> Sequence[JobError]:
    """Up to ``limit`` of the job's row errors after row ``after_row``, in row order."""
    query = (
        select(JobError)
        .where(
            JobError.account_id == job.account_id,
            JobError.job_id == job.id,
            JobError.row > after_row,
        )
        .order_by(JobError.row)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def active_payloads(session: AsyncSession, kind: str) -> list[dict[str, Any]]:
    """The payloads of every queued or running job of ``kind`` (what they still need)."""
    query = select(Job.payload).where(Job.state.in_(ACTIVE_STATES), Job.kind == kind)
    return list((await session.scalars(query)).all())


async def lists_with_active_jobs(
    session: AsyncSession, account_id: str, list_ids: Sequence[str]
) -> set[str]:
    if not list_ids:
        return set()
    query = select(Job.list_id).where(
        Job.account_id == account_id,
        Job.list_id.in_(list_ids),
        Job.state.in_(ACTIVE_STATES),
    )
    return {list_id for list_id in (await session.scalars(query)) if list_id}


async def queue_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(kind, state, count) of the jobs waiting (queued and due) or running: one indexed query.

    Purges scheduled for the end of the trash period are queued but not due: they are not
    waiting for a worker yet, so they are not counted.
    """
    now = utcnow()
    statement = (
        select(Job.kind, Job.state, func.count())
        .where(
            or_(
                and_(Job.state == "queued", Job.run_after <= now),
                Job.state == "running",
            )
        )
        .group_by(Job.kind, Job.state)
    )
    rows = (await session.execute(statement)).all()
    return [(kind, state, count) for kind, state, count in rows]
