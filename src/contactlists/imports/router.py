"""Upload a CSV into a list, and export a list as CSV (CONTRACT §4.8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from contactlists.auth import Caller, ReadCaller, WriteCaller
from contactlists.contacts import repository as contacts_repository
from contactlists.contacts.filter_params import ContactFilters
from contactlists.contacts.schemas import JobAccepted
from contactlists.contacts.search import Filters, read_filters
from contactlists.deps import SessionDep, SettingsDep
from contactlists.errors import (
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    ValidationFailed,
)
from contactlists.imports import csv_files, files, service
from contactlists.imports.encodings import MAX_NAME_LENGTH, parse_encoding
from contactlists.lists import service as lists
from contactlists.models import ContactList
from contactlists.schemas import format_timestamp
from contactlists.wire import ListId

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
                        "encoding": {
                            "type": "string",
                            "maxLength": MAX_NAME_LENGTH,
                            "description": "The CSV file's text encoding, a codec name such as "
                            "cp1252, mac_roman or utf-16 (default UTF-8; ignored for .xlsx).",
                        },
                        "onDuplicate": {
                            "type": "string",
                            "enum": ["skip", "update"],
                            "description": "A row matching a contact: skip it, or update it.",
                        },
                    },
                }
            }
        },
    }
}


# Contacts per page of an export: one short read each.
EXPORT_PAGE_ROWS = 2_000
# Room in a request for the multipart framing and the `mapping` field beside a file at the limit.
FORM_OVERHEAD_BYTES = 1024 * 1024 + 64 * 1024


def _is_multipart(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() == "multipart/form-data"


def _bounded_request(request: Request, upload_limit: int) -> Request:
    """The request, refusing with 413 a body too large for a file of ``upload_limit`` bytes.

    Starlette spools a file part to a temporary file while parsing the form; without a bound on
    the body a client could fill the disk with one request, whatever the upload limit. The file
    itself is measured exactly when it is stored.
    """
    bound = upload_limit + FORM_OVERHEAD_BYTES
    too_large = f"The file is larger than {upload_limit} bytes."
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > bound:
        raise PayloadTooLarge(too_large)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > bound:
                raise PayloadTooLarge(too_large)
        return message

    return Request(request.scope, receive)


router = APIRouter()


@router.post(
    "/{list_id:list_id}/upload",
    response_model=JobAccepted,
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload_contacts(
    caller: WriteCaller,
    list_id: ListId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """Import a CSV file (UTF-8 or the `encoding` sent, optionally gzip) or an Excel workbook
    (.xlsx, its first sheet) into the list; follow the returned job."""
    if not _is_multipart(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("Upload the file as multipart/form-data, field `file`.")
    limit = settings.max_upload_bytes
    # The file is received and stored before the list is looked up: however slowly it
    # arrives, the request holds no database connection meanwhile.
    form = await _read_form(_bounded_request(request, limit), settings.upload_timeout_seconds)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.field("file", "file is required (a CSV file part)")
        raw_mapping = form.get("mapping")
        if raw_mapping is not None and not isinstance(raw_mapping, str):
            raise ValidationFailed.field("mapping", "mapping must be a text field, not a file")
        mapping = service.parse_mapping(raw_mapping)
        raw_encoding = form.get("encoding")
        if raw_encoding is not None and not isinstance(raw_encoding, str):
            raise ValidationFailed.field("encoding", "encoding must be a text field, not a file")
        encoding = parse_encoding(raw_encoding)
        on_duplicate = service.parse_on_duplicate(form.get("onDuplicate"))
        file_id, path = await files.store_upload(upload, files.upload_directory(settings), limit)
        try:
            # A missing list is answered before a word about the file; the lookup's
            # connection is given back while the file is read through.
            await lists.get(session, caller, list_id)
            await session.commit()
            file_format, columns = await service.inspect_upload(path, mapping, settings, encoding)
            target = await lists.get(session, caller, list_id)
            job = await service.queue_upload(
                session,
                caller,
                target,
                file_id=file_id,
                file_name=upload.filename,
                mapping=columns,
                file_format=file_format,
                encoding=encoding,
                on_duplicate=on_duplicate,
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    finally:
        await form.close()
    return JobAccepted(message=f"File {job.payload['fileName']} is being imported", jobId=job.id)


async def _read_form(request: Request, seconds: float) -> FormData:
    """The multipart form, 408 when it takes longer than ``seconds`` to arrive."""
    try:
        async with asyncio.timeout(seconds):
            return await request.form(max_files=1, max_fields=4)
    except TimeoutError:
        raise RequestTimeout(f"The upload did not arrive within {seconds:g} s.") from None


@router.get(
    "/{list_id:list_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_contacts(
    caller: ReadCaller,
    list_id: ListId,
    filters: ContactFilters,
    request: Request,
    session: SessionDep,
) -> StreamingResponse:
    """The list's contacts as CSV, streamed, in insertion order: every one, or those that pass
    the filters, as getAllContacts takes them (`fields.<name>=<value>` included)."""
    target = await lists.get(session, caller, list_id)
    # Checked before the answer starts, so a bad filter is a 400, not a broken download.
    checked = read_filters(filters, target.default_region)
    rows = _export_lines(request.app.state.sessionmaker, caller, target, checked)
    file_name = f"{target.id}.csv"
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


async def _export_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    target: ContactList,
    filters: Filters,
) -> AsyncIterator[bytes]:
    """The CSV, a page at a time: each page is one short read whose connection is back in the
    pool before its bytes are sent, so a client that stops reading holds no connection (and,
    on PostgreSQL, leaves no transaction open); each page is rendered in a thread."""
    columns = list(target.columns)
    yield csv_files.export_line(csv_files.export_header(columns)).encode()
    after = 0
    while True:
        async with sessionmaker() as session:
            rows = await contacts_repository.export_page(
                session,
                account_id=caller.account_id,
                list_id=target.id,
                after_position=after,
                limit=EXPORT_PAGE_ROWS,
                filters=filters,
            )
        if not rows:
            return
        after = rows[-1][0]
        yield await anyio.to_thread.run_sync(_render_page, rows, columns)


def _render_page(rows: Sequence[Sequence[Any]], columns: list[str]) -> bytes:
    # Each row is contacts_repository.EXPORT_COLUMNS: position first, then the file's columns.
    return "".join(
        csv_files.export_line(
            [
                *row[1:8],
                *(row[8].get(column, "") for column in columns),
                format_timestamp(row[9]),
            ]
        )
        for row in rows
    ).encode()
