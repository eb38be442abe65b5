"""The purge job: a deleted list's contacts, removed in bounded batches, then the list's row.

It is queued by the delete, due when the list leaves the trash. Each batch is one short
transaction carrying the job's progress, so readers and writers of other lists never wait
behind more than one batch, and a purge interrupted by a crash simply continues: what is
already gone stays gone. Between batches the purge pauses as long as the batch took, leaving
at least half of the time to everything else.
"""

from __future__ import annotations

import asyncio
import logging
import time

from contactlists.contacts import repository as contacts_repository
from contactlists.imports import files
from contactlists.imports.kinds import UPLOAD
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import JobContext, JobLost
from contactlists.trash import repository

log = logging.getLogger("contactlists.jobs")

PURGE_LIST = "purge_list"
"""The kind of job that purges a deleted list, queued by its deletion, due when its trash ends."""
LIST_RESTORED = "the contact list is live again"


async def purge_list(context: JobContext) -> None:
    job = context.job
    assert job.list_id is not None
    while True:
        context.checkpoint()
        started = time.monotonic()
        removed = await _purge_batch(context)
        if removed == 0:
            break
        await asyncio.sleep(time.monotonic() - started)
    await _remove_upload_files(context)
    async with context.sessionmaker() as session, session.begin():
        await repository.remove_deleted(session, account_id=job.account_id, list_id=job.list_id)
        if not await jobs_repository.finish(session, job, worker=context.worker, state="completed"):
            raise JobLost()  # leaving the block rolls the removal back


async def _purge_batch(context: JobContext) -> int:
    """Remove one batch of the list's contacts with the job's progress; how many went."""
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session, session.begin():
        deleted = await repository.get_deleted(
            session, account_id=job.account_id, list_id=job.list_id
        )
        if deleted is None:
            # Only a restore can bring a list back, and it cannot once the purge is due;
            # should one have anyway, its contacts are not ours to remove.
            await jobs_repository.finish(
                session, job, worker=context.worker, state="cancelled", error=LIST_RESTORED
            )
            raise JobLost()
        removed = await contacts_repository.delete_first(
            session,
            account_id=job.account_id,
            list_id=job.list_id,
            limit=context.settings.purge_batch_rows,
        )
        if removed and not await jobs_repository.advance(
            session,
            job,
            worker=context.worker,
            cursor=job.progress_cursor + removed,
            processed=removed,
            inserted=0,
            duplicates=0,
            invalid=0,
        ):
            raise JobLost()  # cancelled or taken over: the batch is rolled back
    job.progress_cursor += removed
    job.processed += removed
    return removed


async def _remove_upload_files(context: JobContext) -> None:
    """Files of the list's uploads, should any be left (every upload job of the list is over)."""
    job = context.job
    assert job.list_id is not None
    async with context.sessionmaker() as session:
        found = await repository.jobs_of_kind(
            session, account_id=job.account_id, list_id=job.list_id, kind=UPLOAD
        )
    for upload in found:
        files.discard_upload(upload.payload, context.settings)
