"""Queue the undo of an import. Takes the session, never commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.errors import Conflict
from contactlists.imports.kinds import IMPORT_KINDS
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs import service as jobs
from contactlists.lists import service as lists
from contactlists.models.jobs import FINAL_STATES, Job
from contactlists.undo import repository
from contactlists.undo.repository import UNDO_ENDED_UNDONE

UNDO_IMPORT = "undo_import"
"""The kind of job that undoes an import (its handler: contactlists.undo.tasks)."""


async def queue(session: AsyncSession, caller: Caller, job_id: str) -> Job:
    """Queue the undo of one of the caller's finished imports; the undo job.

    404 for a job that is not the caller's (or whose list is gone); 409 for a job that is not
    an import, not finished, ran before imports were recorded, or is already undone.
    """
    job = await jobs.get(session, caller, job_id)
    if job.kind not in IMPORT_KINDS:
        raise Conflict(f"Job {job_id} is a {job.kind} job: only an import can be undone.")
    if job.state not in FINAL_STATES:
        raise Conflict(f"Job {job_id} is {job.state}: an import can be undone once it ended.")
    if "onDuplicate" not in job.payload:
        raise Conflict(
            f"Job {job_id} ran before the service recorded what imports do: it cannot be undone."
        )
    await _refuse_if_undone(session, caller, job)
    assert job.list_id is not None
    await lists.get(session, caller, job.list_id)  # 404 when the list was deleted
    undo = await jobs.enqueue(
        session,
        caller,
        kind=UNDO_IMPORT,
        list_id=job.list_id,
        payload={"undoes": job.id},
        total=job.inserted + job.updated,
    )
    if not await repository.mark_undone(
        session, account_id=caller.account_id, job_id=job.id, undo_id=undo.id
    ):
        # Another undo of this import was queued meanwhile; this one is rolled back.
        raise Conflict(f"Job {job_id} is already being undone.")
    return undo


async def _refuse_if_undone(session: AsyncSession, caller: Caller, job: Job) -> None:
    if job.undone_by is None:
        return
    earlier = await jobs_repository.load(session, caller.account_id, job.undone_by)
    if earlier is None or earlier.state not in UNDO_ENDED_UNDONE:
        raise Conflict(f"Job {job.id} is already undone, by job {job.undone_by}.")
