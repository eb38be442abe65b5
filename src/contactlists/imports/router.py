"""Upload a CSV into a list, and export a list as CSV (CONTRACT §4.8)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile

from contactlists.auth import Caller, ReadCaller, WriteCaller
from contactlists.contacts import repository as contacts_repository
from contactlists.contacts.schemas import JobAccepted
from contactlists.deps import SessionDep, SettingsDep
from contactlists.errors import UnsupportedMediaType, ValidationFailed
from contactlists.imports import csv_files, service
from contactlists.lists import service as lists
from contactlists.lists.models import ContactList
from contactlists.lists.router import ListId
from contactlists.schemas import format_timestamp
from contactlists.wire import PathFamily

UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mapping": {
                            "type": "string",
                            "description": "JSON object from our field names to CSV headers.",
                        },
                    },
                }
            }
        },
    }
}


def build_router(family: PathFamily) -> APIRouter:
    router = APIRouter(prefix=f"{family.prefix}/contactList", tags=[f"contacts ({family.tag})"])

    @router.post(
        "/{list_id:list_id}/upload",
        response_model=JobAccepted,
        openapi_extra=UPLOAD_OPENAPI,
        operation_id=f"upload_contacts_{family.tag}",
    )
    async def upload_contacts(
        caller: WriteCaller,
        list_id: ListId,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
    ) -> Any:
        """Import a CSV file (UTF-8, optionally gzip) into the list; follow the returned job."""
        target = await lists.get(session, caller, list_id)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise UnsupportedMediaType("Upload the file as multipart/form-data, field `file`.")
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed.field("file", "file is required (a CSV file part)")
            raw_mapping = form.get("mapping")
            mapping = service.parse_mapping(raw_mapping if isinstance(raw_mapping, str) else None)
            file_id, path = await service.store_upload(
                upload, service.upload_directory(settings), settings.max_upload_bytes
            )
            try:
                job = await service.queue_upload(
                    session,
                    caller,
                    target,
                    file_id=file_id,
                    path=path,
                    file_name=upload.filename,
                    explicit_mapping=mapping,
                )
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return JobAccepted(
            message=f"File {job.payload['fileName']} is being imported", jobId=job.id
        )

    @router.get(
        "/{list_id:list_id}/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}}},
        operation_id=f"export_contacts_{family.tag}",
    )
    async def export_contacts(
        caller: ReadCaller, list_id: ListId, request: Request, session: SessionDep
    ) -> StreamingResponse:
        """Every contact of the list as CSV, streamed, in insertion order."""
        target = await lists.get(session, caller, list_id)
        rows = _export_lines(request.app.state.sessionmaker, caller, target)
        file_name = f"{target.id}.csv"
        return StreamingResponse(
            rows,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
        )

    return router


async def _export_lines(
    sessionmaker: async_sessionmaker[AsyncSession], caller: Caller, target: ContactList
) -> AsyncIterator[bytes]:
    # The request's session is closed once the route returns; the stream reads with its own.
    columns = list(target.columns)
    yield csv_files.export_line(csv_files.export_header(columns)).encode()
    async with sessionmaker() as session:
        async for chunk in contacts_repository.stream(
            session, account_id=caller.account_id, list_id=target.id
        ):
            lines = [
                csv_files.export_line(
                    [
                        contact.id,
                        contact.phone,
                        contact.first_name,
                        contact.last_name,
                        contact.time_zone,
                        contact.unique_id,
                        contact.contact_priority,
                        *(contact.fields.get(column, "") for column in columns),
                        format_timestamp(contact.created_at),
                    ]
                )
                for contact in chunk
            ]
            yield "".join(lines).encode()
