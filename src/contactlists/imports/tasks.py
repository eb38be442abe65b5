"""The import job: normalise rows in batches off the event loop, store each batch atomically.

Each batch is one transaction holding its contacts, the list's new count and the job's
new cursor, so a crash resumes at the last committed batch and never stores a row twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from contactlists.contacts import service as contacts
from contactlists.contacts.normalise import normalise_rows
from contactlists.imports import csv_files
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import JobContext, JobLost, batched
from contactlists.lists import repository as lists_repository

Row = tuple[int, Mapping[str, Any]]


def _item_rows(payload: dict[str, Any], cursor: int) -> Iterator[Row]:
    """addContacts items after the cursor, numbered from 1 as in the request."""
    items: list[dict[str, Any]] = payload["items"]
    for index in range(cursor, len(items)):
        yield index + 1, items[index]


def _file_rows(payload: dict[str, Any], cursor: int) -> Iterator[Row]:
    """Uploaded records after the cursor (a line number), numbered by their line in the file."""
    mapping = csv_files.ColumnMapping(
        by_field=dict(payload["mapping"]["by_field"]), custom=tuple(payload["mapping"]["custom"])
    )
    yield from csv_files.read_rows(Path(payload["path"]), mapping, start_after_line=cursor)


ROW_SOURCES = {"add_contacts": _item_rows, "upload": _file_rows}


async def import_contacts(context: JobContext) -> None:
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session:
        target = await lists_repository.get_live(
            session, account_id=job.account_id, bot_id=job.bot_id, list_id=job.list_id
        )
    if target is None:
        await _finish(context, "cancelled", error="the contact list was deleted")
        return
    rows = ROW_SOURCES[job.kind](job.payload, job.progress_cursor)
    for batch in batched(rows, context.settings.import_batch_rows):
        results = await context.offload(normalise_rows, batch, target.default_region)
        await _store(context, results, cursor=batch[-1][0])
    await _finish(context, "completed")


async def _store(context: JobContext, results: list[Any], *, cursor: int) -> None:
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session, session.begin():
        outcome = await contacts.store_batch(
            session, account_id=job.account_id, list_id=job.list_id, results=results
        )
        if outcome is None:
            await jobs_repository.finish(
                session, job, worker=context.worker, state="cancelled", error="list deleted"
            )
            raise JobLost()
        await jobs_repository.add_errors(
            session,
            [
                {
                    "account_id": job.account_id,
                    "job_id": job.id,
                    "row": error.row,
                    "field": error.field,
                    "code": error.code,
                    "value": error.value,
                    "message": error.message[:300],
                }
                for error in outcome.errors
            ],
        )
        advanced = await jobs_repository.advance(
            session,
            job,
            worker=context.worker,
            cursor=cursor,
            processed=len(results),
            inserted=outcome.inserted,
            duplicates=outcome.duplicates,
            invalid=outcome.invalid,
        )
        if not advanced:
            # Cancelled or taken over meanwhile: leaving the block rolls the batch back.
            raise JobLost()
    job.progress_cursor = cursor
    job.processed += len(results)


async def _finish(context: JobContext, state: str, error: str | None = None) -> None:
    job = context.job
    async with context.sessionmaker() as session, session.begin():
        total = job.processed if job.kind == "upload" else None
        finished = await jobs_repository.finish(
            session, job, worker=context.worker, state=state, error=error, total=total
        )
    if finished and job.kind == "upload":
        # The file was only kept for this job; nothing will read it again.
        Path(job.payload["path"]).unlink(missing_ok=True)
