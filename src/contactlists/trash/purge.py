"""The purge job: everything a deleted list held, removed for good, in bounded batches.

It is queued by the delete, due when the list leaves the trash. First the contacts go, then
the list's upload files, then its other jobs' row errors (the values rejected rows held), then
those jobs themselves (an addContacts job's id answers 404 from then on) with the list's row.
The purge's own job stays as the record that it ran: the list's id, the contacts it removed,
when; no contact data.

Each batch is one short transaction carrying the job's progress (or at least its heartbeat),
so readers and writers of other lists never wait behind more than one batch, and a purge
interrupted by a crash simply continues: what is already gone stays gone. Between batches the
purge pauses as long as the batch took, leaving at least half of the time to everything else.
A purge never gives up (``contactlists.tasks`` registers it as persistent): it is retried after
growing pauses however often it fails, and a crash is a takeover, not an attempt.
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
    async with context.sessionmaker() as session:
        others = await repository.other_job_ids(
            session, account_id=job.account_id, list_id=job.list_id, purge_id=job.id
        )
    for other in others:
        while True:
            context.checkpoint()
            started = time.monotonic()
            if not await _purge_errors(context, other):
                break
            await asyncio.sleep(time.monotonic() - started)
    async with context.sessionmaker() as session, session.begin():
        for other in others:  # rows that remain: none, unless written since (they cannot be)
            await repository.delete_job_errors(
                session, account_id=job.account_id, job_id=other, limit=None
            )
        await repository.delete_jobs(session, account_id=job.account_id, job_ids=others)
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


async def _purge_errors(context: JobContext, job_id: str) -> int:
    """Remove one batch of the row errors of the list's job ``job_id``; how many went."""
    job = context.job
    async with context.sessionmaker() as session, session.begin():
        if not await jobs_repository.heartbeat(session, job, worker=context.worker):
            raise JobLost()  # cancelled or taken over: this batch is another worker's
        return await repository.delete_job_errors(
            session,
            account_id=job.account_id,
            job_id=job_id,
            limit=context.settings.purge_batch_rows,
        )


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
