"""Reading uploaded contact CSV files and writing the export CSV (CONTRACT §4.8).

Pure (the standard library, and charset-normalizer to name a file's likely encoding), so the
upload route can validate a file before anything is queued and the job can read it later, row by
row, without either knowing about the database.

Files are read as streams (``gzip``/``open`` → ``TextIOWrapper`` → ``csv.reader``), decoded by an
incremental decoder of the upload's encoding (``imports.encodings``; UTF-8 by default, a byte order
mark dropped in any encoding): memory does not grow with the file, whose size is limited only by
the upload limit. The csv module's field size limit (131,072 characters) bounds a single cell, so
even an unclosed quote cannot swallow the file into memory.

Cells are returned exactly as written — surrounding whitespace included; trimming and validating
values is the normaliser's job. Line numbers are physical lines of the file (the header is line 1),
so that a row error points at the line an editor shows.

Exported cells are neutralised against spreadsheet formulas and uploaded cells restored, header
included (``formulas``): one leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab or CR is the
export's, and is dropped on upload.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from contactlists.imports.encodings import DEFAULT_ENCODING, label, not_text
from contactlists.imports.formulas import QUOTE, neutralise, neutralise_phone, restore

if TYPE_CHECKING:
    from _csv import Reader

OUR_FIELDS = ("phoneNumber", "firstName", "lastName", "timeZone", "uniqueId", "contactPriority")
# Written by export, ignored by upload, so that an export re-imports unchanged.
EXPORT_ONLY_COLUMNS = ("_id", "createdAt")

MAX_COLUMNS = 200
SNIFF_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# A corrupt or truncated gzip stream surfaces as any of these, at the first read or much later.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
# Error messages name headers; a header cell may be up to the csv field limit long.
_NAME_SHOWN = 60
_NAMES_SHOWN = 20


class CsvFileError(ValueError):
    """The file or the mapping cannot be used; ``field`` is "file" or "mapping".

    Raised before a job is queued (the route answers 400 naming ``field``) and, for damage found
    only later in a file, by ``read_rows`` while the job runs.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column feeds which field of a contact.

    ``by_field`` maps our field names to CSV headers (only the mapped fields; one header may feed
    several fields). ``custom`` lists the headers kept as custom fields, in file order; none of them
    is one of ``OUR_FIELDS``, so a record's keys never collide.
    """

    by_field: dict[str, str]
    custom: tuple[str, ...]


def _normalise(name: str) -> str:
    """The form headers are matched in: lower case, without whitespace or underscores."""
    return "".join(ch for ch in name.lower() if ch != "_" and not ch.isspace())


_FIELD_BY_NORMAL = {_normalise(field): field for field in OUR_FIELDS}


def _shown(names: Sequence[str]) -> str:
    """Header names for a message, shortened so that a hostile header cannot bloat it."""
    quoted = [
        repr(name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "…")
        for name in names[:_NAMES_SHOWN]
    ]
    if len(names) > _NAMES_SHOWN:
        quoted.append(f"… ({len(names) - _NAMES_SHOWN} more)")
    return ", ".join(quoted)


# ---------------------------------------------------------------- reading


@contextmanager
def _open_binary(path: Path) -> Iterator[io.BufferedReader | gzip.GzipFile]:
    """Opens the file, decompressing it when it starts with gzip's magic bytes (names lie)."""
    with path.open("rb") as raw:
        compressed = raw.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped


@contextmanager
def _open_records(path: Path, encoding: str) -> Iterator[_Records]:
    """The file's CSV records, decoded strictly in ``encoding`` with an optional BOM dropped."""
    with (
        _open_binary(path) as binary,
        io.TextIOWrapper(binary, encoding=encoding, newline="") as text,
    ):
        yield _Records(csv.reader(text))


class Records(Protocol):
    """Where an upload's records come from: a CSV file, or a workbook's sheet (xlsx_files)."""

    last_line: int

    def next(self) -> tuple[int, list[str]] | None:
        """The next non-blank record with its first line (or row), or None at the end."""


BOM = "\ufeff"


def is_blank(cells: Sequence[str]) -> bool:
    return not any(cell and not cell.isspace() for cell in cells)


class _Records:
    """A csv reader that skips blank records and knows the line each record starts on."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        # The last line of the previous record (blank ones included); the next starts after it.
        self.last_line = 0

    def next(self) -> tuple[int, list[str]] | None:
        """The next non-blank record with its first line, or None at the end of the file."""
        for cells in self._reader:
            start = self.last_line + 1
            self.last_line = self._reader.line_num
            if start == 1 and cells:
                # A byte order mark the codec keeps as a character (utf-16-le and -be do).
                cells[0] = cells[0].removeprefix(BOM)
            if not is_blank(cells):
                # Undo the export's formula neutralisation; only a leading quote can need it.
                return start, [restore(cell) if cell[:1] == QUOTE else cell for cell in cells]
        return None


@contextmanager
def _file_errors(records: _Records | None, encoding: str) -> Iterator[None]:
    """Turns damage found while decoding or parsing into CsvFileError, saying where it is."""
    try:
        yield
    except csv.Error as exc:
        where = "" if records is None else f"line {records.last_line + 1}: "
        raise CsvFileError("file", f"{where}not a readable CSV record ({exc})") from exc
    except (UnicodeError, *_GZIP_ERRORS) as exc:
        # Decoding runs a chunk ahead of parsing: the damage is somewhere after the last record.
        where = (
            "" if records is None or not records.last_line else f"after line {records.last_line}: "
        )
        if isinstance(exc, UnicodeError):
            problem = _not_decodable(encoding, exc)
        else:
            problem = "the gzip data is corrupt or truncated"
        raise CsvFileError("file", where + problem) from exc


def _not_decodable(encoding: str, exc: UnicodeError) -> str:
    """The message for bytes that ``encoding`` cannot decode, naming the likely encoding."""
    # The decoder was given a chunk of the file (``exc.object``): the guess reads that chunk.
    # (UTF-16 and UTF-32 without a byte order mark raise a bare UnicodeError, without it.)
    chunk = exc.object if isinstance(exc, UnicodeDecodeError) else b""
    return not_text(encoding, bytes(chunk), f"the file is not {label(encoding)} text")


def _sniff(path: Path, encoding: str) -> None:
    """Rejects binary content: NUL characters, or bytes ``encoding`` cannot decode, in the first
    64 KiB (decompressed); the message names the encoding the bytes look like."""
    with _file_errors(None, encoding), _open_binary(path) as binary:
        head = binary.read(SNIFF_BYTES)
        whole = len(head) < SNIFF_BYTES or not binary.read(1)
    try:
        # A multi-byte character may straddle the sniff's end unless the file ends there.
        text: str | None = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
    except UnicodeError:
        text = None
    if text is not None and "\x00" not in text:
        return
    # NUL characters, or undecodable bytes among NUL bytes: binary data, or UTF-16 read as
    # UTF-8 (mostly NULs); a UTF-16 file decodes to none.
    if text is not None or b"\x00" in head:
        problem = f"the file is binary or not {label(encoding)} text (it contains NUL bytes)"
    else:
        problem = f"the file is not {label(encoding)} text (or it is binary)"
    raise CsvFileError("file", not_text(encoding, head, problem))


def _check_header(header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(
            "file", f"the header has {len(header)} columns; at most {MAX_COLUMNS} are allowed"
        )
    for position, name in enumerate(header, start=1):
        if not _normalise(name):
            raise CsvFileError("file", f"column {position} of the header has no name")
    # Only exact repeats are ambiguous: "email" and "Email" are two custom fields, and when
    # look-alikes both match a standard field the exact spelling wins (see _mapping_from_names).
    duplicates = [name for position, name in enumerate(header) if name in header[:position]]
    if duplicates:
        raise CsvFileError(
            "file",
            "the header names a column more than once: " + _shown(list(dict.fromkeys(duplicates))),
        )


class FileTooLarge(CsvFileError):
    """The decompressed file is larger, or compressed more, than an upload may be."""


@dataclass(frozen=True)
class FileLimits:
    """What a whole upload may be once decompressed."""

    decompressed_bytes: int
    # Decompressed size over compressed size, checked once the data passes RATIO_FLOOR_BYTES
    # (a small file of repeated rows compresses very well and is harmless).
    ratio: int


RATIO_FLOOR_BYTES = 16 * 1024 * 1024


class _Measured(io.RawIOBase):
    """Reads ``source``, refusing it as soon as it is past the limits (a zip bomb is stopped
    after a few megabytes of output, never inflated whole)."""

    def __init__(
        self, source: io.BufferedIOBase | gzip.GzipFile, compressed: int, limits: FileLimits
    ) -> None:
        self._source = source
        self._compressed = max(compressed, 1)
        self._limits = limits
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        self.size += len(data)
        if self.size > self._limits.decompressed_bytes:
            raise FileTooLarge(
                "file",
                f"the file is larger than {self._limits.decompressed_bytes} bytes decompressed",
            )
        if self.size > RATIO_FLOOR_BYTES and self.size > self._limits.ratio * self._compressed:
            raise FileTooLarge(
                "file",
                f"the file decompresses to more than {self._limits.ratio} times its size",
            )
        buffer[: len(data)] = data
        return len(data)


YIELD_EVERY_RECORDS = 2_000


def check_whole_file(path: Path, limits: FileLimits, encoding: str = DEFAULT_ENCODING) -> None:
    """Reads the whole upload once, before it is queued: refuses it (``CsvFileError``) unless
    it decompresses within ``limits``, is text in ``encoding`` throughout, and every record
    parses with quotes closed and at most ``MAX_COLUMNS`` cells, none longer than the csv
    module's field limit (128 KiB). Blocking: run it in a thread."""
    compressed = path.stat().st_size
    with (
        _open_binary(path) as binary,
        io.BufferedReader(_Measured(binary, compressed, limits)) as measured,
        io.TextIOWrapper(measured, encoding=encoding, newline="") as text,
    ):
        reader = csv.reader(text, strict=True)
        try:
            # A bare loop: this reads every record of files of millions. It holds the GIL
            # but for Python's switch interval, and the event loop needs it for every step of
            # a request: every so many records, the thread lets the others run.
            for count, cells in enumerate(reader):
                if not count % YIELD_EVERY_RECORDS:
                    time.sleep(0)
                if len(cells) > MAX_COLUMNS:
                    raise CsvFileError(
                        "file",
                        f"line {reader.line_num}: {len(cells)} cells; at most {MAX_COLUMNS} "
                        "are allowed",
                    )
        except csv.Error as exc:
            where = f"line {reader.line_num + 1}: "
            raise CsvFileError("file", f"{where}not a readable CSV record ({exc})") from exc
        except UnicodeError as exc:
            where = f"after line {reader.line_num}: " if reader.line_num else ""
            raise CsvFileError("file", where + _not_decodable(encoding, exc)) from exc
        except _GZIP_ERRORS as exc:
            raise CsvFileError("file", "the gzip data is corrupt or truncated") from exc


def inspect_file(path: Path, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """Validates an uploaded file up front and returns its header (the first non-blank record).

    Reads only the first 64 KiB, the header and the first data record, so an upload is answered
    400 before anything is queued — and quickly, however large the file.
    """
    _sniff(path, encoding)
    with _open_records(path, encoding) as records, _file_errors(records, encoding):
        return header_of(records)


def header_of(records: Records) -> list[str]:
    """The header of an upload's records, checked, once a contact follows it."""
    first = records.next()
    if first is None:
        raise CsvFileError("file", "the file is empty")
    header = first[1]
    _check_header(header)
    if records.next() is None:
        raise CsvFileError("file", "the file has a header but no contacts")
    return header


def _header_position(header: Sequence[str], wanted: str) -> int | None:
    """The column a mapping value names: exactly, else by the normalised form (if unambiguous)."""
    for position, name in enumerate(header):
        if name == wanted:
            return position
    normal = _normalise(wanted)
    matches = [position for position, name in enumerate(header) if _normalise(name) == normal]
    return matches[0] if len(matches) == 1 else None


def _mapping_from_names(header: Sequence[str]) -> dict[str, int]:
    """Our fields by loosely matched header; of look-alikes the exact spelling wins, else the first.

    The losers stay custom fields, so an export of a list with a custom "Phone Number" column
    beside its phoneNumber uploads back unchanged.
    """
    by_field: dict[str, int] = {}
    for position, name in enumerate(header):
        field = _FIELD_BY_NORMAL.get(_normalise(name))
        if field is None:
            continue
        if field not in by_field or name == field:
            by_field[field] = position
    if "phoneNumber" not in by_field:
        raise CsvFileError(
            "mapping",
            "no phone number column: name one 'phoneNumber' (or 'Phone Number', 'phone_number') "
            "or give a mapping; the headers are " + _shown(header),
        )
    return by_field


def _mapping_from_explicit(header: Sequence[str], explicit: Mapping[str, str]) -> dict[str, int]:
    unknown = [key for key in explicit if key not in OUR_FIELDS]
    if unknown:
        raise CsvFileError(
            "mapping",
            f"unknown fields {_shown(unknown)}; the fields are {', '.join(OUR_FIELDS)}",
        )
    if "phoneNumber" not in explicit:
        raise CsvFileError("mapping", "the mapping must name the column of phoneNumber")
    by_field: dict[str, int] = {}
    for field, wanted in explicit.items():
        if not isinstance(wanted, str):
            raise CsvFileError("mapping", f"{field} must be mapped to a column name (a string)")
        position = _header_position(header, wanted)
        if position is None:
            raise CsvFileError(
                "mapping",
                f"{field} is mapped to {_shown([wanted])}, which is not a column of the file; "
                "the headers are " + _shown(header),
            )
        by_field[field] = position
    return by_field


def resolve_mapping(header: Sequence[str], explicit: Mapping[str, str] | None) -> ColumnMapping:
    """Decides which column feeds which field: by header names, or as ``explicit`` says.

    Without ``explicit``, a header feeds the field it equals ignoring case, spaces and underscores.
    With it, only its entries feed our fields. Either way every other column that is not an
    export-only one (exactly ``_id`` or ``createdAt``) is kept as a custom field.
    """
    if explicit is None:
        positions = _mapping_from_names(header)
    else:
        positions = _mapping_from_explicit(header, explicit)
    used = set(positions.values())
    custom = tuple(
        name
        for position, name in enumerate(header)
        # Matched exactly: a customer's own "ID" or "Created At" column is data to keep.
        if position not in used and name not in EXPORT_ONLY_COLUMNS
    )
    clashing = [name for name in custom if name in OUR_FIELDS]
    if clashing:
        # Only possible with an explicit mapping: a record could not tell the two apart.
        raise CsvFileError(
            "mapping",
            f"columns {_shown(clashing)} have the names of standard fields but are not mapped to "
            "them; map them or rename them",
        )
    if len(set(custom)) != len(custom):
        raise CsvFileError("mapping", "the header names a custom column more than once")
    return ColumnMapping(
        by_field={field: header[position] for field, position in positions.items()},
        custom=custom,
    )


def read_rows(
    path: Path,
    mapping: ColumnMapping,
    *,
    start_after_line: int = 0,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yields ``(line, record)`` for each non-blank record after the header, in file order.

    ``line`` is where the record starts (a quoted cell may span lines). ``record`` maps our
    fields and the custom headers to the cells; missing trailing cells are "", extra ones are
    ignored. Records starting at or before ``start_after_line`` are parsed but not built, so a
    job resumed after a crash skips what it already stored.
    """
    with _open_records(path, encoding) as records, _file_errors(records, encoding):
        yield from rows_of(records, mapping, start_after_line)


def rows_of(
    records: Records, mapping: ColumnMapping, start_after_line: int
) -> Iterator[tuple[int, dict[str, str]]]:
    """``read_rows`` of any source of records: a CSV file's or a sheet's."""
    first = records.next()
    if first is None:
        raise CsvFileError("file", "the file is empty")
    layout = _record_layout(first[1], mapping)
    width = max((position for _, position in layout), default=-1) + 1
    padding = [""] * width
    while (record := records.next()) is not None:
        line, cells = record
        if line <= start_after_line:
            continue
        if len(cells) < width:
            cells = cells + padding[len(cells) :]
        yield line, {key: cells[position] for key, position in layout}


def _record_layout(header: list[str], mapping: ColumnMapping) -> list[tuple[str, int]]:
    """The record's keys, each with the column it is taken from."""
    column = {name: position for position, name in enumerate(header)}
    sources = [*mapping.by_field.items(), *((name, name) for name in mapping.custom)]
    missing = [name for _, name in sources if name not in column]
    if missing:
        raise CsvFileError("mapping", f"the file has no columns {_shown(missing)}")
    return [(key, column[name]) for key, name in sources]


# ---------------------------------------------------------------- writing


def export_header(columns: Sequence[str]) -> list[str]:
    """The export's header: id, our fields, the list's custom columns in order, creation time."""
    return [EXPORT_ONLY_COLUMNS[0], *OUR_FIELDS, *columns, EXPORT_ONLY_COLUMNS[1]]


# Where export_header puts phoneNumber (after _id), whose E.164 numbers are not neutralised.
PHONE_COLUMN = 1 + OUR_FIELDS.index("phoneNumber")


def export_line(values: Sequence[str | None]) -> str:
    """One record of the export (or its header), "\\r\\n" included, quoted only where needed.

    None is an empty cell. Every cell that a spreadsheet would run as a formula gets a leading
    ``'`` (``formulas.neutralise``), except an E.164 number in the phoneNumber column.
    """
    cells = [_export_cell(position, value) for position, value in enumerate(values)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _export_cell(position: int, value: str | None) -> str | None:
    if value is None:
        return None
    return neutralise_phone(value) if position == PHONE_COLUMN else neutralise(value)
