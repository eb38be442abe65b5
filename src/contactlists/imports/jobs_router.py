"""Job routes (CONTRACT §4.8): follow an import, read its row errors, cancel it.

The jobs a client sees are its imports, so their routes live with the imports; ``jobs`` itself
is the queue and knows no feature.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.deps import SessionDep, SettingsDep
from contactlists.imports import service as imports
from contactlists.imports.formulas import neutralise
from contactlists.jobs import service as jobs
from contactlists.jobs.schemas import JobOut, JobSummary, RowErrorOut
from contactlists.schemas import Success
from contactlists.wire import JobId

CSV_COLUMNS = ("row", "field", "code", "value", "message")
# The most row errors one answer carries.
ERRORS_PAGE_MAX = 1000
# The most jobs the list of recent jobs shows.
RECENT_MAX = 200


router = APIRouter()


@router.get("", response_model=Success[list[JobSummary]])
async def get_recent_jobs(
    caller: ReadCaller,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=RECENT_MAX, description="How many jobs.")] = 50,
) -> Any:
    """The bot's most recent jobs of every kind (imports, purges), newest first (extension).

    Each without its row errors: `GET …/jobs/{jobId}` has them.
    """
    return Success(message="", data=await jobs.recent(session, caller, limit=limit))


@router.get("/{job_id:job_id}", response_model=Success[JobOut])
async def get_job(caller: ReadCaller, job_id: JobId, session: SessionDep) -> Any:
    """A job's state, counts and first 100 row errors."""
    job = await jobs.get(session, caller, job_id)
    return Success(message="", data=await jobs.describe(session, job))


@router.get(
    "/{job_id:job_id}/errors",
    response_model=Success[list[RowErrorOut]],
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_job_errors(
    caller: ReadCaller,
    job_id: JobId,
    session: SessionDep,
    accept: Annotated[str | None, Header(description="`text/csv` for CSV.")] = None,
    after_row: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Only errors of rows after this one.")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=ERRORS_PAGE_MAX, description="Errors per page (extension).")
    ] = ERRORS_PAGE_MAX,
) -> Any:
    """A job's stored row errors in row order, as JSON or (with `Accept: text/csv`) CSV.

    A job keeps its first `CONTACTLISTS_MAX_STORED_ROW_ERRORS` row errors (1,000) and counts
    every invalid row in `invalid`. A page holds at most 1,000; the next starts after the last
    row shown (`after_row`).
    """
    job = await jobs.get(session, caller, job_id)
    found = [
        jobs.error_out(error)
        for error in await jobs.errors(session, job, limit=limit, after_row=after_row)
    ]
    if accept and "text/csv" in accept.lower():
        return Response(_as_csv(found), media_type="text/csv; charset=utf-8")
    return Success(message="", data=found)


@router.post(
    "/{job_id:job_id}/cancel",
    response_model=Success[JobOut],
)
async def cancel_job(
    caller: WriteCaller, job_id: JobId, session: SessionDep, settings: SettingsDep
) -> Any:
    """Cancel a queued or running import: it stores no more batches.

    The contacts it already stored stay in the list (and in its `totalRecordCount`); a queued
    import stored none. The job's items are dropped, its row errors kept. A finished job is
    answered as it is.
    """
    job = await imports.cancel(session, caller, job_id, settings)
    return Success(message="", data=await jobs.describe(session, job))


def _as_csv(errors: list[RowErrorOut]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for error in errors:
        # The field and value are the client's own text: no cell may run as a formula.
        writer.writerow(
            [error.row, *map(neutralise, (error.field, error.code, error.value, error.message))]
        )
    return out.getvalue()
