"""The undo route: ``POST …/jobs/{jobId}/undo`` (extension), beside the other job routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from contactlists.auth import WriteCaller
from contactlists.contacts.schemas import JobAccepted
from contactlists.deps import SessionDep
from contactlists.undo import service
from contactlists.wire import JobId

router = APIRouter()


@router.post("/{job_id:job_id}/undo", response_model=JobAccepted)
async def undo_job(caller: WriteCaller, job_id: JobId, session: SessionDep) -> Any:
    """Undo a finished import: queue a job that removes the contacts it inserted and gives the
    contacts it updated their values back; answers with that job's id (follow it like any
    job: its `removed` and `restored` count what it did).

    Contacts changed since by a later import or by hand are left as they are (the undo's row
    errors name them). 409 for a job that is not a finished import, or one already undone.
    """
    undo = await service.queue(session, caller, job_id)
    return JobAccepted(message=f"Job {job_id} is being undone", jobId=undo.id)
