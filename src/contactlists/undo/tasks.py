"""The undo job: what an import inserted goes, what it updated gets its prior values back.

Two passes, in batches of ``CONTACTLISTS_IMPORT_BATCH_ROWS``, each batch one transaction that
takes the list's lock first (as every import batch does, so an undo and an import into the same
list take turns batch by batch) and carries the job's progress:

1. the contacts the import inserted (``import_job_id``), in position order from the job's
   cursor: removed, and counted out of the list's ``totalRecordCount``;
2. the import's prior-value records (``contact_prior``), from the first left: each contact gets
   its values back, and the record goes. No cursor is needed: what is done is gone.

Only what is still the import's own is undone: a contact whose ``last_job_id`` is no longer the
import's (a later import wrote it, or someone edited it by hand) is left as it is, counted in
``invalid`` with a row error (``changed_since``, the row being the contact's position). A
contact deleted since is simply gone, with its prior values. A batch replayed after a crash
finds the same contacts, or none: what a committed batch did is not done twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.contacts import repository as contacts_repository
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import JobContext, JobLost
from contactlists.lists import repository as lists_repository
from contactlists.lists.service import LIST_DELETED
from contactlists.models.contacts import Contact, ContactPrior
from contactlists.models.lists import ContactList

CHANGED_SINCE = "changed_since"


async def undo_import(context: JobContext) -> None:
    undone = context.job.payload["undoes"]
    for step in (_remove_batch, _restore_batch):
        while True:
            context.checkpoint()
            done = await step(context, undone)
            if done is None:
                return  # the list is gone: the job was ended as cancelled
            if done == 0:
                break
    async with context.sessionmaker() as session, session.begin():
        if not await jobs_repository.finish(
            session, context.job, worker=context.worker, state="completed"
        ):
            raise JobLost()


async def _locked_list(context: JobContext, session: AsyncSession) -> ContactList | None:
    job = context.job
    assert job.list_id is not None
    target = await lists_repository.lock_live(
        session, account_id=job.account_id, bot_id=job.bot_id, list_id=job.list_id
    )
    if target is None and not await jobs_repository.finish(
        session, job, worker=context.worker, state="cancelled", error=LIST_DELETED
    ):
        raise JobLost()
    return target


async def _remove_batch(context: JobContext, undone: str) -> int | None:
    """Remove the next batch of contacts the import inserted; how many it looked at."""
    job = context.job
    async with context.sessionmaker() as session, session.begin():
        target = await _locked_list(context, session)
        if target is None:
            return None
        found = await contacts_repository.inserted_by_job(
            session,
            account_id=job.account_id,
            list_id=target.id,
            job_id=undone,
            after_position=job.progress_cursor,
            limit=context.settings.import_batch_rows,
        )
        if not found:
            return 0
        own = [position for position, _, last_job in found if last_job == undone]
        changed = [(position, contact_id) for position, contact_id, last in found if last != undone]
        removed = await contacts_repository.delete_at_positions(
            session, account_id=job.account_id, list_id=target.id, positions=own
        )
        await lists_repository.record_contacts_change(
            session, account_id=job.account_id, list_id=target.id, added=-removed
        )
        await _record(
            context, session, changed, cursor=found[-1][0], processed=len(found), removed=removed
        )
    job.progress_cursor = found[-1][0]
    _counted(context, len(found), changed, removed=removed)
    return len(found)


async def _restore_batch(context: JobContext, undone: str) -> int | None:
    """Give the next batch of contacts the import updated their prior values; how many."""
    job = context.job
    async with context.sessionmaker() as session, session.begin():
        target = await _locked_list(context, session)
        if target is None:
            return None
        priors = await contacts_repository.priors_of_job(
            session,
            account_id=job.account_id,
            job_id=undone,
            limit=context.settings.import_batch_rows,
        )
        if not priors:
            return 0
        current = await contacts_repository.at_positions(
            session,
            account_id=job.account_id,
            list_id=target.id,
            positions=[prior.position for prior in priors],
        )
        rows = [_restored(prior) for prior in priors if _still_own(current, prior, undone)]
        changed = [
            (prior.position, current[prior.position].id)
            for prior in priors
            if not _still_own(current, prior, undone) and prior.position in current
        ]
        await contacts_repository.update_by_position(session, rows)
        await contacts_repository.delete_priors(
            session,
            account_id=job.account_id,
            job_id=undone,
            positions=[prior.position for prior in priors],
        )
        await _record(
            context,
            session,
            changed,
            cursor=job.progress_cursor,
            processed=len(priors),
            restored=len(rows),
        )
    _counted(context, len(priors), changed, restored=len(rows))
    return len(priors)


def _still_own(current: dict[int, Contact], prior: ContactPrior, undone: str) -> bool:
    contact = current.get(prior.position)
    return contact is not None and contact.last_job_id == undone


def _restored(prior: ContactPrior) -> dict[str, Any]:
    return {
        "account_id": prior.account_id,
        "list_id": prior.list_id,
        "position": prior.position,
        **{name: getattr(prior, name) for name in contacts_repository.PRIOR_COLUMNS},
    }


async def _record(
    context: JobContext,
    session: AsyncSession,
    changed: Sequence[tuple[int, str]],
    *,
    cursor: int,
    processed: int,
    removed: int = 0,
    restored: int = 0,
) -> None:
    """The batch's row errors (its contacts changed since) and the job's progress."""
    job = context.job
    room = max(0, context.settings.max_stored_row_errors - job.invalid)
    await jobs_repository.add_errors(
        session,
        [
            {
                "account_id": job.account_id,
                "job_id": job.id,
                "row": position,
                "field": "contact",
                "code": CHANGED_SINCE,
                "value": contact_id,
                "message": "changed since the import (by a later import or by hand): left as is",
            }
            for position, contact_id in changed[:room]
        ],
    )
    if not await jobs_repository.advance(
        session,
        job,
        worker=context.worker,
        cursor=cursor,
        processed=processed,
        inserted=0,
        duplicates=0,
        invalid=len(changed),
        removed=removed,
        restored=restored,
    ):
        raise JobLost()  # cancelled or taken over: leaving the block rolls the batch back


def _counted(
    context: JobContext,
    processed: int,
    changed: Sequence[tuple[int, str]],
    *,
    removed: int = 0,
    restored: int = 0,
) -> None:
    """The committed batch, counted on the job object as the database has it."""
    job = context.job
    job.processed += processed
    job.invalid += len(changed)
    job.removed += removed
    job.restored += restored
