"""Imports: check a stored upload and queue it; cancel imports. Takes the session, never commits.

Where upload files live and when they go is ``imports.files``'s alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from contactlists import wire
from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.contacts.bulk import MAX_LIST_COLUMNS, check_on_duplicate
from contactlists.contacts.normalise import MAX_CUSTOM_FIELDS, MAX_FIELD_NAME_LENGTH
from contactlists.contacts.schemas import OnDuplicate
from contactlists.errors import PayloadTooLarge, ValidationFailed
from contactlists.imports import csv_files, files, readers
from contactlists.imports.encodings import DEFAULT_ENCODING
from contactlists.imports.kinds import IMPORT_KINDS, UPLOAD
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs import service as jobs
from contactlists.lists import repository as lists_repository
from contactlists.models import ContactList, Job

MAX_FILE_NAME = 255
DEFAULT_FILE_NAME = "upload.csv"
ON_DUPLICATE: tuple[str, ...] = get_args(OnDuplicate)
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


def parse_on_duplicate(raw: object) -> OnDuplicate:
    """The optional ``onDuplicate`` form field: ``skip`` (the default) or ``update``."""
    if raw is None or raw == "":
        return "skip"
    if raw in ON_DUPLICATE:
        return cast(OnDuplicate, raw)
    raise ValidationFailed.field("onDuplicate", "onDuplicate must be skip or update")


def _label(file_name: str | None) -> str:
    """The client's file name, reduced to a label: no directories, no control characters."""
    base = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()[:MAX_FILE_NAME].strip()
    return cleaned if cleaned.strip(".") else DEFAULT_FILE_NAME


def _check_custom_columns(custom: tuple[str, ...], columns: list[str]) -> None:
    """Custom columns the normaliser would refuse in every row are refused up front, and so
    are columns that would take the list past its limit (``columns`` are the list's own)."""
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise ValidationFailed.field(
            "file",
            f"the file has {len(custom)} custom columns; at most {MAX_CUSTOM_FIELDS} are allowed",
        )
    new = set(custom) - set(columns)
    if len(columns) + len(new) > MAX_LIST_COLUMNS:
        raise ValidationFailed.field(
            "file",
            f"the list has {len(columns)} custom fields and the file adds {len(new)}; "
            f"a list may have at most {MAX_LIST_COLUMNS}",
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
    file_name: str | None,
    mapping: csv_files.ColumnMapping,
    file_format: str = readers.CSV,
    encoding: str = DEFAULT_ENCODING,
    on_duplicate: OnDuplicate = "skip",
) -> Job:
    """Queue the import of a stored, inspected file into ``target``."""
    _check_custom_columns(mapping.custom, target.columns)
    check_on_duplicate(target, on_duplicate)
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
        "format": file_format,
        "encoding": encoding,
        "onDuplicate": on_duplicate,
    }
    return await jobs.enqueue(
        session, caller, kind=UPLOAD, list_id=target.id, payload=payload, total=None
    )


async def inspect_upload(
    path: Path,
    explicit_mapping: dict[str, str] | None,
    settings: Settings,
    encoding: str = DEFAULT_ENCODING,
) -> tuple[str, csv_files.ColumnMapping]:
    """Check a stored upload whole, in a thread (no database connection is held meanwhile);
    its format (CSV or xlsx) and column mapping. A file too large decompressed is a 413, any
    other problem a 400."""
    limits = csv_files.FileLimits(
        decompressed_bytes=settings.max_decompressed_bytes, ratio=settings.max_compression_ratio
    )
    try:
        return await run_in_threadpool(readers.inspect, path, explicit_mapping, limits, encoding)
    except csv_files.FileTooLarge as exc:
        raise PayloadTooLarge(exc.message) from None
    except csv_files.CsvFileError as exc:
        raise ValidationFailed.field(exc.field, exc.message) from None


async def cancel(session: AsyncSession, caller: Caller, job_id: str, settings: Settings) -> Job:
    """Cancel one of the caller's imports if it is queued or running; answers with the job.

    Only imports are the caller's to cancel: a purge belongs to the list's deletion.
    """
    job = await jobs.cancel(session, caller, job_id, kinds=IMPORT_KINDS)
    _discard_files_of_cancelled([job], settings)
    return job


async def cancel_for_list(
    session: AsyncSession, *, account_id: str, list_id: str, error: str, settings: Settings
) -> None:
    """Cancel every queued or running import into the list (its deletion)."""
    cancelled = await jobs_repository.cancel_for_list(
        session, account_id=account_id, list_id=list_id, kinds=IMPORT_KINDS, error=error
    )
    _discard_files_of_cancelled(cancelled, settings)


def _discard_files_of_cancelled(cancelled: Iterable[Job], settings: Settings) -> None:
    for job in cancelled:
        if job.kind == UPLOAD and job.state == "cancelled":
            # A queued upload never reaches a worker, which would remove its file.
            files.discard_upload(job.payload, settings)
