"""Reading Excel workbooks (imports.xlsx_files): cells as text, and what is refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from contactlists.imports import readers, xlsx_files
from contactlists.imports.csv_files import CsvFileError, FileLimits, FileTooLarge, resolve_mapping
from tests.support.uploads import csv_bytes
from tests.support.workbooks import (
    SHEET_PART,
    inline_row,
    replaced,
    sheet_xml,
    workbook_bytes,
)

LIMITS = FileLimits(decompressed_bytes=64 * 1024 * 1024, ratio=100)
HEADER = ["phoneNumber", "firstName", "when", "amount", "formula", "flag"]


def stored(tmp_path: Path, content: bytes) -> Path:
    # Named as the service names uploads: nothing may depend on an .xlsx suffix.
    path = tmp_path / f"{len(list(tmp_path.iterdir())):024x}.upload"
    path.write_bytes(content)
    return path


def records(path: Path, limits: FileLimits = LIMITS) -> list[tuple[int, dict[str, str]]]:
    file_format, mapping = readers.inspect(path, None, limits)
    assert file_format == readers.XLSX
    return list(readers.read_rows(path, mapping, {"format": file_format}, 0))


def refusal(path: Path, limits: FileLimits = LIMITS) -> CsvFileError:
    with pytest.raises(CsvFileError) as caught:
        readers.inspect(path, None, limits)
    assert caught.value.field == "file"
    return caught.value


# ---------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("value", "data_type", "text"),
    [
        (9876543210, "n", "9876543210"),
        (9876543210.0, "n", "9876543210"),
        (9.12e12, "n", "9120000000000"),
        (-3, "n", "-3"),
        (1.5, "n", "1.5"),
        (0.1, "n", "0.1"),
        (True, "b", "TRUE"),
        (False, "b", "FALSE"),
        (datetime(2024, 5, 1), "d", "2024-05-01"),
        (datetime(2024, 5, 1, 9, 30), "d", "2024-05-01T09:30:00"),
        (date(2024, 1, 2), "d", "2024-01-02"),
        (time(8, 5), "d", "08:05:00"),
        (timedelta(hours=30, minutes=1), "d", "30:01:00"),
        (-timedelta(seconds=61), "d", "-0:01:01"),
        ("=A2&B2", "f", "=A2&B2"),
        ("José Muñoz", "s", "José Muñoz"),
        ("'=1+1", "s", "=1+1"),  # the export's quote before a formula character goes
        ("''=1", "s", "'=1"),
        ("'plain", "s", "'plain"),
        ("#N/A", "e", "#N/A"),
    ],
)
def test_a_cell_is_the_text_a_csv_of_the_sheet_holds(value: Any, data_type: str, text: str) -> None:
    assert xlsx_files.cell_text(value, data_type) == text


def test_a_workbook_reads_as_the_same_rows_in_csv(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        HEADER,
        [9876543210, "José", datetime(2024, 5, 1), 9.12e12, "=A2&B2", True],
        ["+12125550100", "'=x", datetime(2024, 5, 1, 9, 30), 1.5, None, False],
        [],  # a blank row is skipped, as a blank CSV line is
        [2125550101, None, date(2024, 1, 2), -3, "x", None],
    ]
    expected = [
        ["9876543210", "José", "2024-05-01", "9120000000000", "=A2&B2", "TRUE"],
        ["+12125550100", "=x", "2024-05-01T09:30:00", "1.5", "", "FALSE"],
        ["2125550101", "", "2024-01-02", "-3", "x", ""],
    ]
    from_sheet = records(stored(tmp_path, workbook_bytes(rows)))
    assert [line for line, _ in from_sheet] == [2, 3, 5]  # the sheet's row numbers

    csv_path = stored(tmp_path, csv_bytes([HEADER, *expected]))
    file_format, mapping = readers.inspect(csv_path, None, LIMITS)
    assert file_format == readers.CSV
    from_csv = list(readers.read_rows(csv_path, mapping, {}, 0))
    assert [record for _, record in from_sheet] == [record for _, record in from_csv]
    assert from_sheet[0][1]["phoneNumber"] == "9876543210"


def test_the_name_and_media_type_do_not_decide(tmp_path: Path) -> None:
    workbook = workbook_bytes([["phoneNumber"], ["+12125550100"]])
    path = stored(tmp_path, workbook)
    assert xlsx_files.is_workbook(path)
    assert not xlsx_files.is_workbook(stored(tmp_path, b"phoneNumber\r\n+12125550100\r\n"))


def test_a_job_resumes_after_the_row_it_stored_last(tmp_path: Path) -> None:
    path = stored(
        tmp_path, workbook_bytes([["phoneNumber"], *([f"+1212555{n:04d}"] for n in range(5))])
    )
    mapping = resolve_mapping(["phoneNumber"], None)
    resumed = list(readers.read_rows(path, mapping, {"format": "xlsx"}, 4))
    assert [line for line, _ in resumed] == [5, 6]


def test_only_the_first_sheet_is_read(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.create_sheet("First").append(["phoneNumber"])
    workbook.worksheets[0].append(["+12125550100"])
    second = workbook.create_sheet("Second")
    second.append(["other"])
    second.append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert records(stored(tmp_path, buffer.getvalue())) == [(2, {"phoneNumber": "+12125550100"})]


def test_formatted_empty_cells_far_right_are_harmless(tmp_path: Path) -> None:
    rows = inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": "+12125550100"})
    rows = rows.replace("</row>", '<c r="XFD2" s="0"/></row>', 1)
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows)})
    assert records(stored(tmp_path, content)) == [(2, {"phoneNumber": "+12125550100"})]


# ---------------------------------------------------------------- refused


def test_an_xls_or_password_protected_workbook_is_refused(tmp_path: Path) -> None:
    # Both are OLE2 compound files: the old format, and the container of an encrypted .xlsx.
    ole2 = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    assert ".xls" in refusal(stored(tmp_path, ole2)).message


def test_an_encrypted_zip_is_refused(tmp_path: Path) -> None:
    content = replaced(workbook_bytes([["phoneNumber"], ["+12125550100"]]), {}, encrypted=True)
    assert "encrypted" in refusal(stored(tmp_path, content)).message


def test_a_zip_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("contacts.csv", "phoneNumber\r\n+12125550100\r\n")
    assert "not an Excel workbook" in refusal(stored(tmp_path, buffer.getvalue())).message


@pytest.mark.parametrize("keep", [30, 200, -100])
def test_a_damaged_workbook_is_refused(tmp_path: Path, keep: int) -> None:
    content = workbook_bytes([["phoneNumber"], *([f"+1212555{n:04d}"] for n in range(50))])
    message = refusal(stored(tmp_path, content[:keep])).message
    assert "damaged" in message


def test_a_corrupt_sheet_part_is_refused(tmp_path: Path) -> None:
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: b"<worksheet><sheetData><row"})
    assert "damaged" in refusal(stored(tmp_path, content)).message


def test_a_workbook_past_the_decompressed_limit_is_too_large(tmp_path: Path) -> None:
    content = workbook_bytes([["phoneNumber"], ["+12125550100"]])
    path = stored(tmp_path, content)
    small = FileLimits(decompressed_bytes=2_000, ratio=100)
    with pytest.raises(FileTooLarge, match="larger than 2000 bytes"):
        readers.inspect(path, None, small)


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    # 64 MiB of spaces deflate to ~64 KiB: a ratio of ~1000.
    bomb = replaced(
        workbook_bytes([["phoneNumber"], ["+12125550100"]]), {"xl/padding.bin": b" " * (64 << 20)}
    )
    assert len(bomb) < 1 << 20
    with pytest.raises(FileTooLarge, match="more than 100 times"):
        readers.inspect(stored(tmp_path, bomb), None, FileLimits(1 << 40, 100))


def test_a_huge_declared_dimension_is_refused(tmp_path: Path) -> None:
    rows = inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": "+12125550100"})
    content = replaced(
        workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows, dimension="A1:XFD1048576")}
    )
    assert "declares 16384 columns" in refusal(stored(tmp_path, content)).message


def test_a_value_past_the_column_limit_is_refused(tmp_path: Path) -> None:
    # No dimension declared: the row itself says how wide it is.
    rows = inline_row(1, {"A": "phoneNumber", "GS": "far"}) + inline_row(2, {"A": "+12125550100"})
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows)})
    assert "column 201" in refusal(stored(tmp_path, content)).message


def test_a_wide_row_past_the_header_is_refused_before_the_import(tmp_path: Path) -> None:
    rows = "".join(inline_row(n, {"A": f"+1212555{n:04d}"}) for n in range(2, 50))
    rows = inline_row(1, {"A": "phoneNumber"}) + rows + inline_row(50, {"XFD": "x"})
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows)})
    assert "row 50: a value in column 16384" in refusal(stored(tmp_path, content)).message


def test_rows_out_of_order_are_refused(tmp_path: Path) -> None:
    rows = (
        inline_row(1, {"A": "phoneNumber"})
        + inline_row(3, {"A": "+12125550100"})
        + inline_row(2, {"A": "+12125550101"})
    )
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows)})
    assert "row 2 comes after row 3" in refusal(stored(tmp_path, content)).message


def test_a_cell_longer_than_a_csv_cell_may_be_is_refused(tmp_path: Path) -> None:
    rows = inline_row(1, {"A": "phoneNumber", "B": "notes"})
    rows += inline_row(2, {"A": "+12125550100", "B": "x" * (xlsx_files.MAX_CELL_CHARS + 1)})
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows)})
    assert "row 2, column 2" in refusal(stored(tmp_path, content)).message


def test_a_billion_laughs_sheet_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY lol0 "lololololololololol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    )
    prolog = f"<!DOCTYPE worksheet [{entities}]>"
    rows = inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": "&lol9;"})
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows, prolog=prolog)})
    assert "damaged" in refusal(stored(tmp_path, content)).message


def test_an_empty_or_header_only_workbook_is_refused(tmp_path: Path) -> None:
    assert "empty" in refusal(stored(tmp_path, workbook_bytes([]))).message
    header_only = stored(tmp_path, workbook_bytes([["phoneNumber"], [None]]))
    assert "no contacts" in refusal(header_only).message


@pytest.mark.parametrize(
    ("dimension", "refused"),
    [("A1", False), ("A1:GR3", False), ("A1:GS3", True), ("GS1", True), ("bogus", False)],
)
def test_the_declared_dimension_is_read_from_its_last_cell(
    tmp_path: Path, dimension: str, refused: bool
) -> None:
    rows = inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": "+12125550100"})
    content = replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows, dimension=dimension)})
    path = stored(tmp_path, content)
    if refused:
        assert "declares 201 columns" in refusal(path).message
    else:
        assert records(path) == [(2, {"phoneNumber": "+12125550100"})]
