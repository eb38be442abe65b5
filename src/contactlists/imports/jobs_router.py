"""Job routes (CONTRACT §4.8): follow an import, read its row errors, cancel it.

The jobs a client sees are its imports, so their routes live with the imports; ``jobs`` itself
is the queue and knows no feature.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import Response

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.deps import SessionDep, SettingsDep
from contactlists.imports import service as imports
from contactlists.imports.formulas import neutralise
from contactlists.jobs import service as jobs
from contactlists.jobs.schemas import JobOut, RowErrorOut
from contactlists.schemas import Success
from contactlists.wire import JobId

CSV_COLUMNS = ("row", "field", "code", "value", "message")


router = APIRouter()


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
) -> Any:
    """Every row error of a job, as JSON or (with `Accept: text/csv`) CSV."""
    job = await jobs.get(session, caller, job_id)
    found = [jobs.error_out(error) for error in await jobs.errors(session, job)]
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
