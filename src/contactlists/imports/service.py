"""Uploads: keep the file, check it, queue its import. Takes the session, never commits.

The uploaded file is copied to ``data_dir``/uploads under a generated id; the name the client
gave is kept only as a label, never used as a path. The job finds the file by that id under its
own ``data_dir``, so every process that runs jobs must see the same directory.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from contactlists import wire
from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.contacts.normalise import MAX_CUSTOM_FIELDS, MAX_FIELD_NAME_LENGTH
from contactlists.errors import PayloadTooLarge, ValidationFailed
from contactlists.imports import csv_files
from contactlists.jobs import service as jobs
from contactlists.jobs.models import UPLOAD, Job
from contactlists.lists import repository as lists_repository
from contactlists.lists.models import ContactList

log = logging.getLogger("contactlists.imports")

COPY_CHUNK = 1024 * 1024
MAX_FILE_NAME = 255
DEFAULT_FILE_NAME = "upload.csv"
# What the normaliser refuses in a custom field's name (contacts.normalise): checked up front, so a
# file whose every row would be rejected for its header is refused before anything is queued.
_BAD_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """The optional ``mapping`` form field: a JSON object from our field names to CSV headers."""
    if raw is None or not raw.strip():
        return None
    try:
        mapping = wire.loads(raw)
    except wire.JsonRefused as exc:
        raise ValidationFailed.field("mapping", f"mapping is refused: {exc}") from None
    except (ValueError, RecursionError):
        raise ValidationFailed.field("mapping", "mapping is not valid JSON") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise ValidationFailed.field("mapping", "mapping must be an object of strings")
    return mapping


async def store_upload(upload: UploadFile, directory: Path, limit: int) -> tuple[str, Path]:
    """Copy the upload under a new file id; (file id, path). Removes a partial copy on failure."""
    return await run_in_threadpool(_store, upload.file, directory, limit)


def _store(source: BinaryIO, directory: Path, limit: int) -> tuple[str, Path]:
    # Blocking file work, run in a thread: the copy may be as large as the upload limit.
    directory.mkdir(parents=True, exist_ok=True)
    file_id = secrets.token_hex(12)
    path = upload_path(directory, file_id)
    size = 0
    source.seek(0)
    try:
        with path.open("xb") as out:
            while chunk := source.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return file_id, path


def upload_path(directory: Path, file_id: str) -> Path:
    """Where the upload ``file_id`` is kept; the id is 24 hex characters, never a client's text."""
    if not re.fullmatch(r"[0-9a-f]{24}", file_id):
        raise ValueError(f"not an upload file id: {file_id!r}")
    return directory / f"{file_id}.upload"


def _label(file_name: str | None) -> str:
    """The client's file name, reduced to a label: no directories, no control characters."""
    base = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()[:MAX_FILE_NAME].strip()
    return cleaned if cleaned.strip(".") else DEFAULT_FILE_NAME


def _check_custom_columns(custom: tuple[str, ...]) -> None:
    """Custom columns the normaliser would refuse in every row are refused up front."""
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise ValidationFailed.field(
            "file",
            f"the file has {len(custom)} custom columns; at most {MAX_CUSTOM_FIELDS} are allowed",
        )
    for name in custom:
        if len(name) > MAX_FIELD_NAME_LENGTH or _BAD_IN_NAME.search(name):
            shown = repr(name[:40] + ("…" if len(name) > 40 else ""))
            raise ValidationFailed.field(
                "file",
                f"the column {shown} cannot be a custom field: names are 1 to "
                f"{MAX_FIELD_NAME_LENGTH} characters without control characters",
            )


async def queue_upload(
    session: AsyncSession,
    caller: Caller,
    target: ContactList,
    *,
    file_id: str,
    path: Path,
    file_name: str | None,
    explicit_mapping: dict[str, str] | None,
) -> Job:
    """Check the stored file and queue its import; CsvFileError becomes a 400."""
    try:
        mapping = await run_in_threadpool(_inspect, path, explicit_mapping)
    except csv_files.CsvFileError as exc:
        raise ValidationFailed.field(exc.field, exc.message) from None
    _check_custom_columns(mapping.custom)
    label = _label(file_name)
    await lists_repository.record_upload(
        session,
        account_id=target.account_id,
        bot_id=target.bot_id,
        list_id=target.id,
        file={"fileId": file_id, "fileName": label},
        mapping={field: mapping.by_field.get(field, "") for field in target.mapping},
    )
    payload: dict[str, Any] = {
        "fileId": file_id,
        "fileName": label,
        "mapping": {"by_field": mapping.by_field, "custom": list(mapping.custom)},
    }
    return await jobs.enqueue(
        session, caller, kind=UPLOAD, list_id=target.id, payload=payload, total=None
    )


def _inspect(path: Path, explicit: dict[str, str] | None) -> csv_files.ColumnMapping:
    return csv_files.resolve_mapping(csv_files.inspect_file(path), explicit)


def upload_directory(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def uploaded_file(payload: Mapping[str, Any], settings: Settings) -> Path:
    """Where an upload job's file is: by its id under this process's ``data_dir``."""
    if "fileId" in payload:
        return upload_path(upload_directory(settings), payload["fileId"])
    return Path(payload["path"])  # jobs queued before files were found by id


def discard_upload(payload: Mapping[str, Any], settings: Settings) -> None:
    """Remove an upload job's file; its job is over (or will never start)."""
    path = uploaded_file(payload, settings)
    try:
        path.unlink(missing_ok=True)
    except OSError:
        # The job is over either way; a file left behind is only disk space.
        log.exception("could not remove %s, an uploaded file", path)
