"""Excel workbooks for the upload tests, written with openpyxl, and hostile variants of them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

SHEET_PART = "xl/worksheets/sheet1.xml"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_workbook(destination: Path | io.BytesIO, rows: Iterable[Sequence[Any]]) -> None:
    """``rows`` as the first sheet of a workbook, streamed (openpyxl's write-only mode)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(list(row))
    workbook.save(destination)


def workbook_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    write_workbook(buffer, rows)
    return buffer.getvalue()


def replaced(workbook: bytes, parts: Mapping[str, bytes], *, encrypted: bool = False) -> bytes:
    """``workbook`` with some parts replaced or added (and every part flagged as encrypted)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        names = [info.filename for info in source.infolist()]
        for name in [*names, *(name for name in parts if name not in names)]:
            target.writestr(name, parts[name] if name in parts else source.read(name))
    return _flagged_encrypted(out.getvalue()) if encrypted else out.getvalue()


def _flagged_encrypted(archive: bytes) -> bytes:
    """``archive`` with the "encrypted" bit set on every entry of its central directory (the
    zipfile module writes no encrypted entries, and reads the flag from there)."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        position = opened.start_dir  # type: ignore[attr-defined]
    while data[position : position + 4] == b"PK\x01\x02":
        data[position + 8] |= 0x1
        names, extra, comment = (
            int.from_bytes(data[position + at : position + at + 2], "little") for at in (28, 30, 32)
        )
        position += 46 + names + extra + comment
    return bytes(data)


def sheet_xml(rows: str, dimension: str | None = None, prolog: str = "") -> bytes:
    """A worksheet part holding ``rows`` (``<row>`` elements), with a declared dimension."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        + prolog
        + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + declared
        + f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def inline_row(number: int, cells: Mapping[str, str]) -> str:
    """A ``<row>`` of inline strings, ``cells`` by column letters."""
    inner = "".join(
        f'<c r="{column}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for column, text in cells.items()
    )
    return f'<row r="{number}">{inner}</row>'
