"""Uploads: keep the file, check it, queue its import. Takes the session, never commits.

The uploaded file is copied to ``data_dir`` under a generated id; the name the client
gave is kept only as a label, never used as a path.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.errors import PayloadTooLarge, ValidationFailed
from contactlists.imports import csv_files
from contactlists.jobs import service as jobs
from contactlists.jobs.models import Job
from contactlists.lists import repository as lists_repository
from contactlists.lists.models import ContactList

UPLOAD = "upload"
COPY_CHUNK = 1024 * 1024
MAX_FILE_NAME = 255


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    """The optional ``mapping`` form field: a JSON object from our field names to CSV headers."""
    if raw is None or not raw.strip():
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise ValidationFailed.field("mapping", "mapping is not valid JSON") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise ValidationFailed.field("mapping", "mapping must be an object of strings")
    return mapping


async def store_upload(upload: UploadFile, directory: Path, limit: int) -> tuple[str, Path]:
    """Copy the upload under a new file id; (file id, path). Removes a partial copy on failure."""
    directory.mkdir(parents=True, exist_ok=True)
    file_id = secrets.token_hex(12)
    path = directory / f"{file_id}.upload"
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := await upload.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return file_id, path


def _label(file_name: str | None) -> str:
    """The client's file name, reduced to a label: no directories, no control characters."""
    base = (file_name or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:MAX_FILE_NAME] or "upload.csv"


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
        header = csv_files.inspect_file(path)
        mapping = csv_files.resolve_mapping(header, explicit_mapping)
    except csv_files.CsvFileError as exc:
        raise ValidationFailed.field(exc.field, exc.message) from None
    label = _label(file_name)
    await lists_repository.record_upload(
        session,
        account_id=target.account_id,
        list_id=target.id,
        file={"fileId": file_id, "fileName": label},
        mapping={field: mapping.by_field.get(field, "") for field in target.mapping},
    )
    payload: dict[str, Any] = {
        "path": str(path),
        "fileName": label,
        "mapping": {"by_field": mapping.by_field, "custom": list(mapping.custom)},
    }
    return await jobs.enqueue(
        session, caller, kind=UPLOAD, list_id=target.id, payload=payload, total=None
    )


def upload_directory(settings: Settings) -> Path:
    return settings.data_dir / "uploads"
