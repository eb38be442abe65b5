"""Reading uploaded Excel workbooks (.xlsx): the first worksheet, streamed row by row.

An upload is a workbook when its content says so, whatever its name or media type (names lie,
as they do for gzip): a zip archive holding ``xl/workbook.xml``. An old binary workbook (.xls)
and a password-protected one are both OLE2 compound files, refused with one message; so are a
zip archive that is not a workbook, an encrypted or damaged one, and one that would inflate past
the upload limits (``FileTooLarge``, as a gzip bomb is), which is checked from the sizes the
archive declares before a byte is inflated (Python's zipfile never inflates a member past its
declared size).

The workbook is read with openpyxl's reader in read-only mode, in pieces: its manifest, shared
strings table (each distinct text once, bounded by the upload limits like every part), workbook
part and styles (which number formats are dates), but not its worksheets, which openpyxl would
each open to find their dimension (and parse whole when one declares none). The first worksheet's
XML is then parsed here as a stream (``_rows``), each row by openpyxl's row parser and removed
once read, so memory does not grow with the rows; each row is built no wider than its last cell
with a value (openpyxl would pad every row to the declared dimension: one cell in column XFD would
make each 16,384 cells wide), a value past column ``MAX_COLUMNS`` is refused, and so is a declared
dimension wider than that, before any row is read.

The XML is parsed by the standard library over expat, which fetches no external entity and, from
expat 2.4 on, stops an entity expansion past a small amplification: a "billion laughs" sheet is
refused as damaged. openpyxl would parse with defusedxml were it installed; it is not a
dependency, as it swaps the C parser for the pure Python one and halves the reading speed.

Cells become the text a CSV export of the sheet would hold:

- numbers: integers as integer text, so a phone number stored as a number is ``9876543210``,
  never ``9.87654321E+09`` or ``9876543210.0``; other numbers as Python's shortest repr;
- dates as ISO 8601 (``2024-05-01``, or ``2024-05-01T09:30:00`` with a time), times and durations
  likewise; booleans ``TRUE``/``FALSE``; errors as Excel shows them (``#N/A``); empty cells "";
- a formula cell is its formula's text (``=A2&B2``), never evaluated nor taken from the value
  the spreadsheet cached: the same as a CSV cell holding that text, which the export neutralises;
- text as it is, with the export's leading ``'`` before a formula character dropped, as for CSV.

Line numbers are the sheet's row numbers (the header's row included), as the spreadsheet shows.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from contactlists.imports.csv_files import (
    MAX_COLUMNS,
    RATIO_FLOOR_BYTES,
    ColumnMapping,
    CsvFileError,
    FileLimits,
    FileTooLarge,
    header_of,
    is_blank,
    rows_of,
)
from contactlists.imports.formulas import QUOTE, restore

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
WORKBOOK_PART = "xl/workbook.xml"
# A workbook has a dozen parts, one per sheet more; thousands is no spreadsheet.
MAX_PARTS = 10_000
# The longest cell, as for CSV (the csv module's field limit; Excel's own is 32,767).
MAX_CELL_CHARS = csv.field_size_limit()
_ENCRYPTED = 0x1  # general purpose bit 0 of a zip entry
_ROW = f"{{{SHEET_MAIN_NS}}}row"
_SHEET_DATA = f"{{{SHEET_MAIN_NS}}}sheetData"
_DIMENSION = f"{{{SHEET_MAIN_NS}}}dimension"
# What a damaged workbook raises from openpyxl and the XML and zip layers beneath it.
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ParseError,
)

# openpyxl warns of what it skips (unknown extensions, styles, dates out of range); the import
# reads values only, and the import's own messages say what is wrong with a file.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")


def is_workbook(path: Path) -> bool:
    """Whether the upload is a zip archive (then it must be an .xlsx workbook, or is refused).

    An OLE2 file (.xls, or a password-protected workbook) is refused here.
    """
    with path.open("rb") as raw:
        head = raw.read(len(OLE2_MAGIC))
    if head.startswith(OLE2_MAGIC):
        raise CsvFileError(
            "file",
            "the file is an old Excel workbook (.xls) or a password-protected one; save it as "
            ".xlsx without a password, or as CSV",
        )
    return head.startswith(ZIP_MAGIC)


def check_archive(path: Path, limits: FileLimits) -> None:
    """Refuses a zip that is not a readable workbook, or that inflates past ``limits``."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CsvFileError(
            "file", "the file is a damaged zip archive, not a readable .xlsx workbook"
        ) from exc
    if len(parts) > MAX_PARTS:
        raise CsvFileError("file", f"the archive has {len(parts)} parts; no workbook has so many")
    if any(part.flag_bits & _ENCRYPTED for part in parts):
        raise CsvFileError("file", "the workbook is encrypted; save it without a password")
    if WORKBOOK_PART not in {part.filename for part in parts}:
        raise CsvFileError(
            "file",
            "the file is a zip archive but not an Excel workbook (.xlsx): it has no "
            f"{WORKBOOK_PART}; send .xlsx or CSV",
        )
    inflated = sum(part.file_size for part in parts)
    if inflated > limits.decompressed_bytes:
        raise FileTooLarge(
            "file", f"the workbook is larger than {limits.decompressed_bytes} bytes decompressed"
        )
    compressed = max(path.stat().st_size, 1)
    if inflated > RATIO_FLOOR_BYTES and inflated > limits.ratio * compressed:
        raise FileTooLarge(
            "file", f"the workbook decompresses to more than {limits.ratio} times its size"
        )


def inspect_workbook(path: Path, limits: FileLimits) -> list[str]:
    """Validates a workbook up front and returns its header (the first non-blank row)."""
    check_archive(path, limits)
    with _sheet_records(path) as records:
        return header_of(records)


def check_whole_workbook(path: Path) -> None:
    """Reads every row of the sheet once, before the upload is queued: refuses it
    (``CsvFileError``) if any row is damaged, too wide, or has a cell that is too long."""
    with _sheet_records(path) as records:
        while records.next() is not None:
            pass


def read_rows(
    path: Path, mapping: ColumnMapping, *, start_after_line: int = 0
) -> Iterator[tuple[int, dict[str, str]]]:
    """``csv_files.read_rows`` for a workbook: (row number, record) after the header row."""
    with _sheet_records(path) as records:
        yield from rows_of(records, mapping, start_after_line)


@contextmanager
def _sheet_records(path: Path) -> Iterator[_SheetRecords]:
    """The first worksheet's rows as records; damage anywhere becomes a CsvFileError."""
    # Opened by us: openpyxl refuses a path not named .xlsx, and uploads are named by their id.
    with path.open("rb") as raw:
        with _workbook_errors():
            reader = _read_workbook(raw)
        try:
            with _workbook_errors():
                source = reader.archive.open(_first_worksheet(reader))
            try:
                with _workbook_errors():
                    # What openpyxl's ReadOnlyWorksheet sets up; the rows are read by _rows.
                    parser = WorkSheetParser(
                        source,
                        reader.shared_strings,
                        data_only=False,
                        epoch=reader.wb.epoch,
                        date_formats=reader.wb._date_formats,
                        timedelta_formats=reader.wb._timedelta_formats,
                    )
                yield _SheetRecords(_rows(source, parser))
            finally:
                source.close()
        finally:
            reader.archive.close()


def _read_workbook(raw: IO[bytes]) -> Any:
    """What ``load_workbook(read_only=True)`` reads, less its worksheets: it would open each
    sheet to find its dimension, and a sheet that declares none is then parsed whole, the
    rows it read kept in memory, before a row could be read."""
    reader = ExcelReader(
        raw, read_only=True, keep_vba=False, data_only=False, keep_links=False, rich_text=False
    )
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # which number formats are dates
    return reader


def _first_worksheet(reader: Any) -> str:
    """The archive path of the workbook's first worksheet (chart sheets are not read)."""
    for _sheet, relation in reader.parser.find_sheets():
        if relation.target in reader.valid_files and "chartsheet" not in relation.Type:
            return str(relation.target)
    raise CsvFileError("file", "the workbook has no worksheet")


def _rows(source: IO[bytes], parser: Any) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The sheet's rows as (row number, cells present), parsed one at a time.

    openpyxl's own loop (``WorkSheetParser.parse``) empties each row it has read but leaves it
    in the tree, and keeps the attributes of every row that has some (heights, styles): memory
    grows with the rows. Here each row is removed once read, a declared dimension wider than
    ``MAX_COLUMNS`` is refused before any row, and reading stops at the end of the sheet's data.
    """
    sheet_data = None
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            if element.tag == _SHEET_DATA:
                sheet_data = element
        elif element.tag == _ROW:
            yield parser.parse_row(element)
            parser.row_dimensions.clear()
            if sheet_data is not None:
                sheet_data.remove(element)
        elif element.tag == _DIMENSION:
            _check_dimension(element.get("ref", ""))
        elif element.tag == _SHEET_DATA:
            return


def _check_dimension(ref: str) -> None:
    """Refuses a sheet that declares more columns than an upload may have."""
    last = ref.rpartition(":")[2].rstrip("0123456789").upper()
    if not last.isalpha() or len(last) > 3:
        return  # no usable dimension: each row's own width is checked as it is read
    declared = column_index_from_string(last)
    if declared > MAX_COLUMNS:
        raise CsvFileError(
            "file",
            f"the first sheet declares {declared} columns; at most {MAX_COLUMNS} are allowed",
        )


@contextmanager
def _workbook_errors() -> Iterator[None]:
    try:
        yield
    except CsvFileError:
        raise
    except _DAMAGE as exc:
        raise CsvFileError(
            "file", f"the workbook is damaged or cannot be read ({type(exc).__name__})"
        ) from exc


class _SheetRecords:
    """A sheet's rows as records (``csv_files.Records``): blank rows skipped, cells as text."""

    def __init__(self, rows: Iterator[tuple[int, list[dict[str, Any]]]]) -> None:
        self._rows = rows
        self.last_line = 0

    def next(self) -> tuple[int, list[str]] | None:
        with _workbook_errors():
            for number, cells in self._rows:
                if number <= self.last_line:
                    # Rows are written in order; a file that repeats one could not resume.
                    raise CsvFileError("file", f"row {number} comes after row {self.last_line}")
                self.last_line = number
                record = _record(number, cells)
                if not is_blank(record):
                    return number, record
            return None


def _record(number: int, cells: list[dict[str, Any]]) -> list[str]:
    """A row's cells as text, in columns 1 … its last cell with a value."""
    texts: dict[int, str] = {}
    for cell in cells:
        if cell["value"] is None:
            continue  # formatted but empty: such cells may reach column XFD harmlessly
        column = cell["column"]
        if column > MAX_COLUMNS:
            raise CsvFileError(
                "file",
                f"row {number}: a value in column {column}; at most {MAX_COLUMNS} columns are "
                "allowed",
            )
        text = cell_text(cell["value"], cell["data_type"])
        if len(text) > MAX_CELL_CHARS:
            raise CsvFileError(
                "file",
                f"row {number}, column {column}: a cell of {len(text)} characters; at most "
                f"{MAX_CELL_CHARS}",
            )
        texts[column] = text
    width = max(texts, default=0)
    return [texts.get(column, "") for column in range(1, width + 1)]


def cell_text(value: Any, data_type: str) -> str:
    """The text of a cell's value, as a CSV export of the sheet would hold it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Integral numbers (phone numbers, ids) as integers: never 9.87654321E+09 or "….0".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(value)
    if data_type == "f":
        # An array formula is an object holding its text.
        return str(getattr(value, "text", None) or value)
    text = str(value)
    return restore(text) if text[:1] == QUOTE else text


def _duration(value: timedelta) -> str:
    """A duration as [-]H:MM:SS[.ffffff], hours unbounded (Excel's ``[h]:mm:ss``)."""
    sign = "-" if value < timedelta(0) else ""
    total = abs(value)
    seconds = total.days * 86_400 + total.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f".{total.microseconds:06d}" if total.microseconds else ""
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}{fraction}"
