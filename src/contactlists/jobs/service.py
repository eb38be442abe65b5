"""Jobs as callers see them: enqueue, look up, cancel. Takes the session, never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.errors import NotFound
from contactlists.jobs import repository
from contactlists.jobs.schemas import JobOut, JobSummary, RowErrorOut
from contactlists.models.base import utcnow
from contactlists.models.jobs import Job, JobError

ERRORS_SHOWN_ON_JOB = 100


async def enqueue(
    session: AsyncSession,
    caller: Caller,
    *,
    kind: str,
    list_id: str | None,
    payload: dict[str, Any],
    total: int | None,
    input_data: list[Any] | None = None,
    run_after: datetime | None = None,
) -> Job:
    """Queue a job; it runs as soon as a worker is free, or not before ``run_after``.

    ``input_data`` is what the job imports when the request carried it; it is dropped when
    the job ends.
    """
    now = utcnow()
    job = Job(
        account_id=caller.account_id,
        id=f"job-{uuid.uuid4()}",
        kind=kind,
        bot_id=caller.bot_id,
        list_id=list_id,
        state="queued",
        payload=payload,
        input_data=input_data,
        total=total,
        processed=0,
        inserted=0,
        duplicates=0,
        invalid=0,
        unverified=0,
        updated=0,
        removed=0,
        restored=0,
        progress_cursor=0,
        attempts=0,
        takeovers=0,
        created_by=caller.actor,
        created_at=now,
        run_after=run_after or now,
    )
    await repository.add(session, job)
    return job


async def get(session: AsyncSession, caller: Caller, job_id: str) -> Job:
    job = await repository.get(
        session, account_id=caller.account_id, bot_id=caller.bot_id, job_id=job_id
    )
    if job is None:
        raise NotFound(f"Job {job_id} was not found.")
    return job


async def cancel(
    session: AsyncSession, caller: Caller, job_id: str, *, kinds: Sequence[str]
) -> Job:
    """Cancel a queued or running job of one of ``kinds``; a finished one is left as it is.

    What the job already did stays (an import's stored batches); its input data goes.
    """
    await repository.cancel(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        job_id=job_id,
        kinds=kinds,
    )
    return await get(session, caller, job_id)


async def errors(
    session: AsyncSession, job: Job, *, limit: int, after_row: int = 0
) -> Sequence[JobError]:
    return await repository.errors(session, job, limit=limit, after_row=after_row)


def error_out(error: JobError) -> RowErrorOut:
    return RowErrorOut(
        row=error.row, field=error.field, code=error.code, value=error.value, message=error.message
    )


async def recent(session: AsyncSession, caller: Caller, *, limit: int) -> list[JobSummary]:
    """The bot's most recent jobs (imports, purges, …), newest first, without row errors."""
    found = await repository.recent(
        session, account_id=caller.account_id, bot_id=caller.bot_id, limit=limit
    )
    return [
        JobSummary(
            id=job.id,
            type=job.kind,
            state=job.state,
            contactListId=job.list_id,
            total=job.total,
            processed=job.processed,
            inserted=job.inserted,
            duplicates=job.duplicates,
            invalid=job.invalid,
            updated=job.updated,
            removed=job.removed,
            restored=job.restored,
            undoneBy=job.undone_by,
            createdAt=job.created_at,
            startedAt=job.started_at,
            finishedAt=job.finished_at,
            error=job.error if job.state != "completed" else None,
        )
        for job in found
    ]


async def describe(session: AsyncSession, job: Job) -> JobOut:
    first_errors = await repository.errors(session, job, limit=ERRORS_SHOWN_ON_JOB)
    return JobOut(
        id=job.id,
        type=job.kind,
        state=job.state,
        contactListId=job.list_id,
        total=job.total,
        processed=job.processed,
        inserted=job.inserted,
        duplicates=job.duplicates,
        invalid=job.invalid,
        unverified=job.unverified,
        updated=job.updated,
        removed=job.removed,
        restored=job.restored,
        undoneBy=job.undone_by,
        errors=[error_out(error) for error in first_errors],
        createdAt=job.created_at,
        startedAt=job.started_at,
        finishedAt=job.finished_at,
        error=job.error if job.state != "completed" else None,
    )
