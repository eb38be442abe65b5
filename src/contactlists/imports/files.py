"""Uploaded files, from the upload request to the end of their job: the one owner of their lifetime.

An uploaded file is copied to ``data_dir``/uploads under a generated id; the name the client
gave is kept only as a label, never used as a path. The job finds the file by that id under its
own ``data_dir``, so every process that runs jobs must see the same directory. A file is removed
when its job ends, when its job is cancelled before a worker took it, and by the purge of its
list, whichever comes first; removing it twice is harmless. A file none of these removed (its
upload's process was killed while copying it, or before its job was queued) is an orphan: the
job workers sweep the files no queued or running job needs once ``upload_orphan_seconds`` old.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from contactlists.config import Settings
from contactlists.errors import PayloadTooLarge

log = logging.getLogger("contactlists.imports")

COPY_CHUNK = 1024 * 1024


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


UPLOAD_NAME = re.compile(r"[0-9a-f]{24}\.upload")


def upload_path(directory: Path, file_id: str) -> Path:
    """Where the upload ``file_id`` is kept; the id is 24 hex characters, never a client's text."""
    if not re.fullmatch(r"[0-9a-f]{24}", file_id):
        raise ValueError(f"not an upload file id: {file_id!r}")
    return directory / f"{file_id}.upload"


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


def remove_orphans(directory: Path, needed: Collection[Path], older_than: float) -> list[Path]:
    """Remove the uploads in ``directory`` not ``needed`` and unchanged for ``older_than`` s.

    Only files named as this module names uploads are considered; the grace period keeps a file
    whose upload is still being checked and queued. Returns the files removed.
    """
    if not directory.is_dir():
        return []
    keep = {path.resolve() for path in needed}
    cutoff = time.time() - older_than
    removed = []
    for path in directory.iterdir():
        if not UPLOAD_NAME.fullmatch(path.name) or path.resolve() in keep:
            continue
        try:
            if not path.is_file() or path.stat().st_mtime > cutoff:
                continue
            path.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile by its job's end
        except OSError:
            log.exception("could not remove %s, an orphaned uploaded file", path)
            continue
        log.warning("removed %s: an uploaded file no job needs", path)
        removed.append(path)
    return removed
