"""Which reader an upload needs, CSV or Excel workbook, decided by the file's content.

The upload route checks a file through ``inspect`` and the import job reads it through
``read_rows``, with the format ``inspect`` found and the encoding the client sent, both kept in
the job's payload. A zip archive is a workbook (``xlsx_files``) and anything else CSV, plain or
gzipped (``csv_files``); the file's name and media type are not asked. The encoding applies to
CSV only: a workbook's XML says its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from contactlists.imports import csv_files, xlsx_files
from contactlists.imports.encodings import DEFAULT_ENCODING

CSV = "csv"
XLSX = "xlsx"


def inspect(
    path: Path,
    explicit: Mapping[str, str] | None,
    limits: csv_files.FileLimits,
    encoding: str = DEFAULT_ENCODING,
) -> tuple[str, csv_files.ColumnMapping]:
    """Checks a stored upload whole (blocking: run it in a thread); its format and mapping.

    The header first (a bad one is told quickly), then the whole file, so that nothing that
    would fail the import later is queued.
    """
    if xlsx_files.is_workbook(path):
        mapping = csv_files.resolve_mapping(xlsx_files.inspect_workbook(path, limits), explicit)
        xlsx_files.check_whole_workbook(path)
        return XLSX, mapping
    mapping = csv_files.resolve_mapping(csv_files.inspect_file(path, encoding), explicit)
    csv_files.check_whole_file(path, limits, encoding)
    return CSV, mapping


def read_rows(
    path: Path, mapping: csv_files.ColumnMapping, payload: Mapping[str, Any], start_after_line: int
) -> Iterator[tuple[int, dict[str, str]]]:
    """The records of an upload job's file, as its payload says to read them.

    Jobs queued before workbooks and encodings were accepted have neither key: UTF-8 CSV.
    """
    if payload.get("format", CSV) == XLSX:
        return xlsx_files.read_rows(path, mapping, start_after_line=start_after_line)
    return csv_files.read_rows(
        path,
        mapping,
        start_after_line=start_after_line,
        encoding=payload.get("encoding", DEFAULT_ENCODING),
    )
