"""The import job: normalise rows in batches off the event loop, store each batch atomically.

Each batch is one transaction holding its contacts, the list's new count and the job's
new cursor, so a crash resumes at the last committed batch and never stores a row twice.

An upload's file is read a batch at a time in a thread and removed once its job is over,
whatever the ending: completed, cancelled, or failed (``upload_ended``, run by the worker
that saw it end). A worker that cannot find the file tries again later: another worker may
see it, or the shared directory may be back; once the job's attempts are spent it fails with
a message naming the data directory. ``sweep_orphan_uploads`` removes the files no job needs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import time
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.contacts import bulk
from contactlists.contacts import repository as contacts_repository
from contactlists.contacts.normalise import normalise_rows
from contactlists.db.statistics import GrowthAnalyser
from contactlists.imports import csv_files, files, readers
from contactlists.imports.kinds import ADD_CONTACTS, UPLOAD
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import JobContext, JobLost, RetryLater
from contactlists.lists import repository as lists_repository
from contactlists.lists.service import LIST_DELETED
from contactlists.memory import release_free_memory
from contactlists.models.jobs import Job

log = logging.getLogger("contactlists.jobs")

Row = tuple[int, Mapping[str, Any]]
Rows = Generator[Row, None, None]
MAX_ERROR_LENGTH = 1000  # job.error
TRIM_SECONDS = 2.0


def _item_rows(job: Job, cursor: int, _settings: Settings) -> Rows:
    """addContacts items after the cursor, numbered from 1 as in the request."""
    items: list[dict[str, Any]] = job.input_data or []
    for index in range(cursor, len(items)):
        yield index + 1, items[index]


def _file_rows(job: Job, cursor: int, settings: Settings) -> Rows:
    """Uploaded records after the cursor, numbered by their line in a CSV file or their row in
    a workbook's sheet (the cursor is one of those numbers)."""
    payload = job.payload
    mapping = csv_files.ColumnMapping(
        by_field=dict(payload["mapping"]["by_field"]), custom=tuple(payload["mapping"]["custom"])
    )
    path = files.uploaded_file(payload, settings)
    yield from readers.read_rows(path, mapping, payload, cursor)


ROW_SOURCES = {ADD_CONTACTS: _item_rows, UPLOAD: _file_rows}


def _take(rows: Iterator[Row], size: int) -> list[Row]:
    return list(islice(rows, size))


def file_missing(payload: Mapping[str, Any], settings: Settings) -> str:
    """Why an upload cannot be imported here: its file is not where this worker looks."""
    path = files.uploaded_file(payload, settings)
    return (
        f"the uploaded file {path.name} is not in {path.parent.resolve()} on "
        f"{socket.gethostname()}: every process that runs jobs must share the data directory "
        f"(CONTACTLISTS_DATA_DIR, here {settings.data_dir.resolve()})"
    )


async def import_contacts(context: JobContext) -> None:
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session:
        target = await lists_repository.get_live(
            session, account_id=job.account_id, bot_id=job.bot_id, list_id=job.list_id
        )
    if target is None:
        await _finish(context, "cancelled", error=LIST_DELETED)
        return
    size = context.settings.import_batch_rows
    rows = ROW_SOURCES[job.kind](job, job.progress_cursor, context.settings)

    async def prepare() -> tuple[list[Row], list[Any]] | None:
        # Reading (and, for uploads, decompressing and decoding) blocks: done in a thread.
        batch = await asyncio.to_thread(_take, rows, size)
        if not batch:
            return None
        return batch, await _normalise(context, batch, target.default_region)

    trimmer = _Trimmer()
    statistics = GrowthAnalyser(functools.partial(_analyse_contacts, context))
    with closing(rows):
        ahead = asyncio.ensure_future(prepare())
        try:
            while (ready := await ahead) is not None:
                batch, results = ready
                # The next batch is read and parsed while this one is written.
                ahead = asyncio.ensure_future(prepare())
                if (inserted := await _store(context, results, cursor=batch[-1][0])) is None:
                    return
                await trimmer.maybe_trim()
                await statistics.grew(inserted)
        except csv_files.CsvFileError as exc:
            # Damage found only now, past what the upload checked: trying again cannot help.
            await _finish(context, "failed", error=exc.message)
            return
        except FileNotFoundError:
            # Tried again later, perhaps by a worker that sees the file; failed once the
            # job's attempts are spent, with this message.
            raise RetryLater(file_missing(job.payload, context.settings)) from None
        finally:
            # The rows may still be read in a thread: let it end before they are closed.
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()
    await _finish(context, "completed")


class _Trimmer:
    """Hands the freed memory of finished batches back to the system every few seconds.

    Without it the server's resident size crept up over a long import even though no batch
    is kept: B2 measured 474 MiB after 1 GB of CSV (docs/BENCHMARKS.md).
    """

    def __init__(self, every_seconds: float = TRIM_SECONDS) -> None:
        self.every = every_seconds
        self.last = time.monotonic()

    async def maybe_trim(self) -> None:
        if time.monotonic() - self.last >= self.every:
            # In a thread: returning pages to the system may take a few milliseconds.
            await asyncio.to_thread(release_free_memory)
            self.last = time.monotonic()


async def _analyse_contacts(context: JobContext) -> None:
    # A large import keeps the table's statistics in step (contactlists.db.statistics).
    async with context.sessionmaker() as session, session.begin():
        await contacts_repository.refresh_statistics(session)


async def _normalise(context: JobContext, batch: list[Row], region: str) -> list[Any]:
    """Normalise a batch in parallel slices, one per normalising process; results in order."""
    slices = max(1, context.settings.normalise_processes)
    step = -(-len(batch) // slices)
    parts = await asyncio.gather(
        *(
            context.offload(normalise_rows, batch[start : start + step], region)
            for start in range(0, len(batch), step)
        )
    )
    return [result for part in parts for result in part]


async def _store(context: JobContext, results: list[Any], *, cursor: int) -> int | None:
    """Store one batch with the job's progress: how many contacts it inserted, or None when
    the list is gone (the job is cancelled)."""
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session, session.begin():
        outcome = await bulk.store_batch(
            session,
            account_id=job.account_id,
            bot_id=job.bot_id,
            list_id=job.list_id,
            results=results,
            rules=bulk.ImportRules(
                job_id=job.id, on_duplicate=job.payload.get("onDuplicate", "skip")
            ),
        )
        if outcome is None:
            # Nothing was written; this transaction commits only the job's end.
            ended = await jobs_repository.finish(
                session, job, worker=context.worker, state="cancelled", error=LIST_DELETED
            )
        else:
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
                    # A job keeps its first row errors only; its `invalid` counts them all.
                    for error in outcome.errors[: _room_for_errors(context)]
                ],
            )
            advanced = await jobs_repository.advance(
                session,
                job,
                worker=context.worker,
                cursor=cursor,
                processed=len(results),
                inserted=outcome.inserted,
                updated=outcome.updated,
                duplicates=outcome.duplicates,
                invalid=outcome.invalid,
                unverified=outcome.unverified,
            )
            if not advanced:
                # Cancelled or taken over meanwhile: leaving the block rolls the batch back.
                raise JobLost()
    if outcome is None:
        if not ended:
            raise JobLost()
        return None
    context.metrics.contacts_stored(job.kind, outcome.inserted)  # committed: count them
    job.progress_cursor = cursor
    job.processed += len(results)
    job.invalid += outcome.invalid
    job.updated += outcome.updated
    job.duplicates += outcome.duplicates
    job.unverified += outcome.unverified
    return outcome.inserted


def _room_for_errors(context: JobContext) -> int:
    """How many more row errors the job may store: one is stored per invalid or duplicate row
    (the job counts both) until the cap."""
    job = context.job
    return max(0, context.settings.max_stored_row_errors - job.invalid - job.duplicates)


async def _finish(context: JobContext, state: str, error: str | None = None) -> None:
    job = context.job
    async with context.sessionmaker() as session, session.begin():
        total = job.processed if job.kind == UPLOAD else None
        finished = await jobs_repository.finish(
            session,
            job,
            worker=context.worker,
            state=state,
            error=None if error is None else error[:MAX_ERROR_LENGTH],
            total=total,
        )
    if not finished:
        raise JobLost()


async def upload_ended(job: Job, settings: Settings) -> None:
    """An upload job has ended, whatever the ending: its file goes."""
    files.discard_upload(job.payload, settings)


async def sweep_orphan_uploads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Remove the uploaded files no queued or running upload needs, once old enough.

    A file whose job is queued after the jobs are read here was stored moments before, well
    within the grace period, so it is not removed.
    """
    directory = files.upload_directory(settings)
    async with sessionmaker() as session:
        payloads = await jobs_repository.active_payloads(session, UPLOAD)
    needed = [files.uploaded_file(payload, settings) for payload in payloads]
    await asyncio.to_thread(files.remove_orphans, directory, needed, settings.upload_orphan_seconds)
