"""Reading uploaded contact CSV files and writing the export CSV (CONTRACT §4.8).

Pure functions on files in tmp_path: encodings and compression, header matching, explicit
mappings, every rejected file, line numbers, resuming, bounded memory, and the export → upload
round trip.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import tracemalloc
from collections.abc import Mapping, Sequence
from itertools import product
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactlists.imports.csv_files import (
    EXPORT_ONLY_COLUMNS,
    OUR_FIELDS,
    ColumnMapping,
    CsvFileError,
    export_header,
    export_line,
    inspect_file,
    read_rows,
    resolve_mapping,
)

BOM = b"\xef\xbb\xbf"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def write(directory: Path, content: bytes, name: str = "contacts.csv") -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def read_all(
    path: Path, explicit: Mapping[str, str] | None = None, start_after_line: int = 0
) -> tuple[ColumnMapping, list[tuple[int, dict[str, str]]]]:
    """What an upload does: inspect, resolve the mapping, read every row."""
    mapping = resolve_mapping(inspect_file(path), explicit)
    return mapping, list(read_rows(path, mapping, start_after_line=start_after_line))


def rejected(path: Path, field: str = "file") -> str:
    with pytest.raises(CsvFileError) as caught:
        read_all(path)
    assert caught.value.field == field
    assert str(caught.value) == caught.value.message
    return caught.value.message


def mapping_error(header: Sequence[str], explicit: Mapping[str, str] | None) -> str:
    with pytest.raises(CsvFileError) as caught:
        resolve_mapping(header, explicit)
    assert caught.value.field == "mapping"
    return caught.value.message


# ---------------------------------------------------------------- encodings and line endings


@pytest.mark.parametrize(
    ("newline", "bom", "gzipped"),
    list(product(["\n", "\r\n"], [False, True], [False, True])),
    ids=lambda value: repr(value),
)
def test_line_endings_bom_and_gzip_read_alike(
    tmp_path: Path, newline: str, bom: bool, gzipped: bool
) -> None:
    text = newline.join(["phoneNumber,firstName,city", "+15550001,Ann,Köln", "+15550002,Bo,"]) + (
        newline
    )
    content = (BOM if bom else b"") + text.encode()
    if gzipped:
        content = gzip.compress(content)
    # Compression is recognised by its magic bytes, whatever the file is called.
    path = write(tmp_path, content, name="upload.csv")

    assert inspect_file(path) == ["phoneNumber", "firstName", "city"]
    mapping, rows = read_all(path)
    assert mapping == ColumnMapping(
        by_field={"phoneNumber": "phoneNumber", "firstName": "firstName"}, custom=("city",)
    )
    assert rows == [
        (2, {"phoneNumber": "+15550001", "firstName": "Ann", "city": "Köln"}),
        (3, {"phoneNumber": "+15550002", "firstName": "Bo", "city": ""}),
    ]


def test_no_final_newline_and_lone_carriage_returns(tmp_path: Path) -> None:
    path = write(tmp_path, b"phoneNumber\r1\r2")
    assert read_all(path)[1] == [(2, {"phoneNumber": "1"}), (3, {"phoneNumber": "2"})]


def test_quoted_fields_and_the_lines_records_start_on(tmp_path: Path) -> None:
    content = (
        'phoneNumber,"first\nname",note\r\n'  # line 1-2: a header cell spanning two lines
        '1,Ann,"a, b"\r\n'  # line 3
        '2,"Bo\r\nB","say ""hi"",\nthen\n\nleave"\r\n'  # lines 4-8
        "\r\n"  # line 9: empty, skipped
        ",,\r\n"  # line 10: every cell empty, skipped
        " , ,\t\r\n"  # line 11: every cell blank, skipped
        '3,"",""\r\n'  # line 12
    )
    path = write(tmp_path, content.encode())
    mapping, rows = read_all(path)
    assert mapping.by_field == {"phoneNumber": "phoneNumber", "firstName": "first\nname"}
    assert rows == [
        (3, {"phoneNumber": "1", "firstName": "Ann", "note": "a, b"}),
        (4, {"phoneNumber": "2", "firstName": "Bo\r\nB", "note": 'say "hi",\nthen\n\nleave'}),
        (12, {"phoneNumber": "3", "firstName": "", "note": ""}),
    ]


def test_leading_blank_lines_before_the_header_count(tmp_path: Path) -> None:
    path = write(tmp_path, b"\n\nphoneNumber\n\n5\n")
    assert inspect_file(path) == ["phoneNumber"]
    assert read_all(path)[1] == [(5, {"phoneNumber": "5"})]


def test_short_records_are_padded_and_extra_cells_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, b"phoneNumber,lastName,x\n1\n2,Li,y,extra,more\n")
    assert read_all(path)[1] == [
        (2, {"phoneNumber": "1", "lastName": "", "x": ""}),
        (3, {"phoneNumber": "2", "lastName": "Li", "x": "y"}),
    ]


def test_cells_are_not_trimmed(tmp_path: Path) -> None:
    path = write(tmp_path, b'phoneNumber,firstName, Tag \n 1 ,"  Ann\t", x \n')
    mapping, rows = read_all(path)
    assert mapping.custom == (" Tag ",)
    assert rows == [(2, {"phoneNumber": " 1 ", "firstName": "  Ann\t", " Tag ": " x "})]


# ---------------------------------------------------------------- header matching


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("phoneNumber", "phoneNumber"),
        ("Phone Number", "phoneNumber"),
        ("phone_number", "phoneNumber"),
        ("PHONENUMBER", "phoneNumber"),
        (" phone number ", "phoneNumber"),
        ("first name", "firstName"),
        ("First_Name", "firstName"),
        ("LASTNAME", "lastName"),
        ("time_zone", "timeZone"),
        ("Time Zone", "timeZone"),
        ("Unique ID", "uniqueId"),
        ("unique_id", "uniqueId"),
        ("contact priority", "contactPriority"),
        ("Contact_Priority", "contactPriority"),
    ],
)
def test_headers_match_our_fields_ignoring_case_spaces_and_underscores(
    header: str, field: str
) -> None:
    others = [f for f in OUR_FIELDS if f != field]
    mapping = resolve_mapping([header, *others], None)
    assert mapping.by_field[field] == header
    assert mapping.by_field == {field: header, **{f: f for f in others}}
    assert mapping.custom == ()


def test_unmatched_headers_are_custom_fields_in_file_order() -> None:
    header = ["Zip", "_id", "Phone", "phone number", "Created At", "Email", "phone numbers", "ID"]
    assert resolve_mapping(header, None) == ColumnMapping(
        by_field={"phoneNumber": "phone number"},
        custom=("Zip", "Phone", "Created At", "Email", "phone numbers", "ID"),
    )


def test_missing_phone_column_names_the_headers() -> None:
    message = mapping_error(["mobile", "firstName"], None)
    assert "'mobile', 'firstName'" in message
    message = mapping_error([f"column {n}" for n in range(150)], None)
    assert "'column 19'" in message
    assert "'column 20'" not in message
    assert "130 more" in message


def test_missing_phone_column_in_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"phone;name\n1;Ann\n")  # semicolons: one column, named "phone;name"
    assert "'phone;name'" in rejected(path, "mapping")


# ---------------------------------------------------------------- explicit mappings


def test_explicit_mapping_uses_only_its_entries(tmp_path: Path) -> None:
    path = write(tmp_path, b"Mobile,Given,Phone Number,_id,Tag,createdAt\n1,Ann,2,x,t,y\n")
    mapping, rows = read_all(path, {"phoneNumber": "Mobile", "firstName": "given"})
    assert mapping == ColumnMapping(
        by_field={"phoneNumber": "Mobile", "firstName": "Given"}, custom=("Phone Number", "Tag")
    )
    assert rows == [
        (2, {"phoneNumber": "1", "firstName": "Ann", "Phone Number": "2", "Tag": "t"}),
    ]


def test_explicit_mapping_prefers_the_exact_header() -> None:
    mapping = resolve_mapping(["phone", "Phone"], {"phoneNumber": "Phone"})
    assert mapping == ColumnMapping(by_field={"phoneNumber": "Phone"}, custom=("phone",))


def test_explicit_mapping_may_feed_two_fields_from_one_column(tmp_path: Path) -> None:
    path = write(tmp_path, b"Mobile,_id\n1,abc\n")
    mapping, rows = read_all(path, {"phoneNumber": "Mobile", "uniqueId": "Mobile"})
    assert mapping == ColumnMapping(
        by_field={"phoneNumber": "Mobile", "uniqueId": "Mobile"}, custom=()
    )
    assert rows == [(2, {"phoneNumber": "1", "uniqueId": "1"})]
    # An export-only column is used when the mapping names it.
    mapping, rows = read_all(path, {"phoneNumber": "Mobile", "uniqueId": "_id"})
    assert rows == [(2, {"phoneNumber": "1", "uniqueId": "abc"})]


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        ({"phone": "Mobile"}, "'phone'"),
        ({"phoneNumber": "Mobile", "email": "Mobile"}, "'email'"),
        ({"firstName": "Name"}, "phoneNumber"),
        ({}, "phoneNumber"),
        ({"phoneNumber": "Cell"}, "'Cell'"),
        ({"phoneNumber": "Mobile", "lastName": ""}, "lastName"),
        ({"phoneNumber": 5}, "phoneNumber"),
        ({"phoneNumber": "Mobile", "lastName": "Name"}, "'firstName'"),
    ],
    ids=[
        "unknown-field",
        "unknown-field-besides-phone",
        "no-phone",
        "empty",
        "no-such-header",
        "empty-header-name",
        "not-a-string",
        "standard-name-left-custom",
    ],
)
def test_bad_explicit_mappings(explicit: dict[str, str], expected: str) -> None:
    assert expected in mapping_error(["Mobile", "Name", "firstName"], explicit)


def test_read_rows_rejects_a_mapping_of_another_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"phoneNumber\n1\n")
    mapping = ColumnMapping(by_field={"phoneNumber": "phoneNumber"}, custom=("Email",))
    with pytest.raises(CsvFileError) as caught:
        list(read_rows(path, mapping))
    assert caught.value.field == "mapping"
    assert "'Email'" in caught.value.message


# ---------------------------------------------------------------- rejected files


def _random_bytes_with_nul() -> bytes:
    data = bytearray(random.Random(7).randbytes(4096))
    data[100] = 0
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b" \r\n\t\n  \n", "empty"),
        (BOM + b"\n\n", "empty"),
        (gzip.compress(b""), "empty"),
        (gzip.compress(b"\n \n"), "empty"),
        (PNG, "UTF-8"),
        (_random_bytes_with_nul(), "NUL"),
        (b"phoneNumber\n1\x002\n", "NUL"),
        (b"phoneNumber,name\n1,Ren\xe9\n", "UTF-8"),
        ("phoneNumber\n1\n".encode("utf-16"), "UTF-8"),
        (b"\x1f\x8b", "gzip"),
        (b"\x1f\x8b" + b"garbage, not deflate data" * 10, "gzip"),
        (gzip.compress(b"phoneNumber\n1\n")[:-12], "gzip"),
        (gzip.compress(PNG), "UTF-8"),
        (b"phoneNumber,firstName\n", "no contacts"),
        (b"phoneNumber,firstName\r\n\r\n,\r\n \r\n", "no contacts"),
        (gzip.compress(BOM + b"phoneNumber"), "no contacts"),
        (b"phoneNumber,,name\n1,2,3\n", "column 2"),
        (b"phoneNumber, _ \n1,2\n", "column 2"),
        (b"phoneNumber,name,name\n1,2,3\n", "'name'"),
        ((",".join(["phoneNumber", *(f"c{n}" for n in range(200))]) + "\n1\n").encode(), "201"),
    ],
    ids=[
        "zero-bytes",
        "whitespace-only",
        "bom-and-blank-lines",
        "gzip-of-nothing",
        "gzip-of-whitespace",
        "png",
        "random-bytes-with-nul",
        "nul-in-a-cell",
        "latin-1",
        "utf-16",
        "gzip-magic-only",
        "gzip-magic-then-garbage",
        "truncated-gzip",
        "gzipped-png",
        "header-only",
        "header-and-blank-records",
        "gzipped-header-only-with-bom",
        "empty-column-name",
        "blank-column-name",
        "duplicate-column",
        "too-many-columns",
    ],
)
def test_rejected_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CsvFileError) as caught:
        inspect_file(path)
    assert caught.value.field == "file"
    assert expected in caught.value.message


def test_two_hundred_columns_are_allowed(tmp_path: Path) -> None:
    header = ["phoneNumber", *(f"c{n}" for n in range(199))]
    path = write(tmp_path, (",".join(header) + "\n1\n").encode())
    mapping, rows = read_all(path)
    assert len(mapping.custom) == 199
    assert rows == [(2, {"phoneNumber": "1", **dict.fromkeys(header[1:], "")})]


def test_inspect_reads_only_the_start_damage_later_is_found_by_read_rows(tmp_path: Path) -> None:
    good = "".join(f"{n},name {n}\n" for n in range(10_000))  # well beyond the 64 KiB sniff
    path = write(tmp_path, f"phoneNumber,firstName\n{good}".encode() + b"9,Ren\xe9\n1,x\n")
    mapping = resolve_mapping(inspect_file(path), None)
    rows = read_rows(path, mapping)
    with pytest.raises(CsvFileError) as caught:
        for _ in rows:
            pass
    assert caught.value.field == "file"
    assert caught.value.message.startswith("after line ")
    assert "UTF-8" in caught.value.message


def test_truncated_gzip_found_while_reading(tmp_path: Path) -> None:
    # Random cells compress poorly, so the truncation lies beyond what inspect_file reads.
    rng = random.Random(3)
    body = "".join(f"{n},{rng.randbytes(30).hex()}\n" for n in range(20_000))
    path = write(tmp_path, gzip.compress(f"phoneNumber,x\n{body}".encode())[:-1000])
    mapping = resolve_mapping(inspect_file(path), None)
    with pytest.raises(CsvFileError) as caught:
        list(read_rows(path, mapping))
    assert caught.value.field == "file"
    assert "gzip" in caught.value.message


def test_unclosed_quote_cannot_swallow_the_file(tmp_path: Path) -> None:
    tail = "".join(f"{n},x\n" for n in range(50_000))
    path = write(tmp_path, f'phoneNumber,x\n1,ok\n2,"oops\n{tail}'.encode())
    mapping = resolve_mapping(inspect_file(path), None)
    with pytest.raises(CsvFileError) as caught:
        list(read_rows(path, mapping))
    assert caught.value.field == "file"
    assert caught.value.message.startswith("line 3: ")
    assert "field larger than field limit" in caught.value.message


# ---------------------------------------------------------------- resuming


def test_start_after_line_skips_records_starting_at_or_before_it(tmp_path: Path) -> None:
    content = 'phoneNumber,note\n1,a\n2,"b\nb"\n\n3,c\n4,d\n'  # records start on 2, 3, 6, 7
    path = write(tmp_path, content.encode())

    def lines(start_after_line: int) -> list[int]:
        return [line for line, _ in read_all(path, start_after_line=start_after_line)[1]]

    assert lines(0) == [2, 3, 6, 7]
    assert lines(1) == [2, 3, 6, 7]
    assert lines(2) == [3, 6, 7]
    assert lines(3) == [6, 7]  # mid-record: the record starting on 3 is done
    assert lines(4) == [6, 7]
    assert lines(6) == [7]
    assert lines(7) == []
    assert lines(100) == []
    _, rows = read_all(path, start_after_line=3)
    assert rows[0] == (6, {"phoneNumber": "3", "note": "c"})


# ---------------------------------------------------------------- large files


ROWS = 200_000


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Phone Number", "First Name", "Last Name", "Unique ID", "Email", "Zip"])
        writer.writerows(
            (f"+1555{n:07d}", f"First{n}", f"Last {n}", f"u-{n}", f"p{n}@example.com", "12345")
            for n in range(ROWS)
        )
    return path


def test_a_large_file_is_read_in_bounded_memory(large_file: Path) -> None:
    assert large_file.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        mapping = resolve_mapping(inspect_file(large_file), None)
        count = 0
        last: tuple[int, dict[str, str]] | None = None
        for row in read_rows(large_file, mapping):
            count += 1
            last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == ROWS
    assert last == (
        ROWS + 1,
        {
            "phoneNumber": f"+1555{ROWS - 1:07d}",
            "firstName": f"First{ROWS - 1}",
            "lastName": f"Last {ROWS - 1}",
            "uniqueId": f"u-{ROWS - 1}",
            "Email": f"p{ROWS - 1}@example.com",
            "Zip": "12345",
        },
    )
    assert peak < 20 * 1024 * 1024


def test_resuming_a_large_file_starts_where_asked(large_file: Path) -> None:
    mapping = resolve_mapping(inspect_file(large_file), None)
    rows = read_rows(large_file, mapping, start_after_line=ROWS - 1)
    assert [line for line, _ in rows] == [ROWS, ROWS + 1]


# ---------------------------------------------------------------- export


def test_export_header() -> None:
    assert export_header([]) == ["_id", *OUR_FIELDS, "createdAt"]
    assert export_header(["Email", "Zip"]) == [
        "_id",
        "phoneNumber",
        "firstName",
        "lastName",
        "timeZone",
        "uniqueId",
        "contactPriority",
        "Email",
        "Zip",
        "createdAt",
    ]
    assert tuple(export_header([])[:: len(OUR_FIELDS) + 1]) == EXPORT_ONLY_COLUMNS


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (["a", "b"], "a,b\r\n"),
        (["a", None, ""], "a,,\r\n"),
        (["a,b", 'say "hi"', "x\ny", "r\rs", " t "], '"a,b","say ""hi""","x\ny","r\rs", t \r\n'),
        (["=1+2", "ü"], "'=1+2,ü\r\n"),
        (["-", "+14155550100", "+1 (415)"], "'-,+14155550100,'+1 (415)\r\n"),
    ],
)
def test_export_line(values: list[str | None], line: str) -> None:
    assert export_line(values) == line


# ---------------------------------------------------------------- the round trip

# Text as stored: anything but NUL (rejected as binary) and lone surrogates (not encodable).
stored_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
tricky_text = st.sampled_from(
    [
        "",
        " ",
        "a,b",
        '"',
        'say "hi"',
        "x\ny",
        "x\r\ny",
        "\r",
        "\n\n",
        " lead",
        "trail ",
        "\t",
        "\ufeff",
    ]
)
value = st.one_of(st.none(), stored_text, tricky_text)


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch != "_" and not ch.isspace())


_RESERVED = {_normal(name) for name in (*OUR_FIELDS, *EXPORT_ONLY_COLUMNS)}
column_name = st.one_of(stored_text, st.sampled_from(["Email", "a,b", 'q"q', "two\nlines"])).filter(
    lambda name: bool(_normal(name)) and _normal(name) not in _RESERVED
)
custom_columns = st.lists(column_name, max_size=5, unique_by=_normal)


@st.composite
def lists_to_export(draw: st.DrawFn) -> tuple[list[str], list[list[str | None]]]:
    columns = draw(custom_columns)
    width = len(OUR_FIELDS) + len(columns)
    values = draw(st.lists(st.lists(value, min_size=width, max_size=width), min_size=1, max_size=8))
    return columns, values


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exported=lists_to_export(), gzipped=st.booleans())
def test_export_imports_back_unchanged(
    tmp_path: Path, exported: tuple[list[str], list[list[str | None]]], gzipped: bool
) -> None:
    columns, records = exported
    buffer = io.StringIO()
    buffer.write(export_line(export_header(columns)))
    for number, record in enumerate(records):
        buffer.write(export_line([f"c-{number}", *record, "2025-06-26T12:32:02.735Z"]))
    content = buffer.getvalue().encode()
    path = write(tmp_path, gzip.compress(content) if gzipped else content)

    mapping, rows = read_all(path)

    assert mapping.by_field == {field: field for field in OUR_FIELDS}
    assert mapping.custom == tuple(columns)
    keys = [*OUR_FIELDS, *columns]
    assert [record for _, record in rows] == [
        {key: "" if cell is None else cell for key, cell in zip(keys, record, strict=True)}
        for record in records
    ]
    lines = [line for line, _ in rows]
    assert lines == sorted(lines)
    assert lines[0] == 2 + sum(map(_line_breaks, export_header(columns)))


def _line_breaks(cell: str) -> int:
    """How many lines a cell adds, as the csv reader counts them (\\r\\n is one break)."""
    return cell.replace("\r\n", "\n").replace("\r", "\n").count("\n")


def test_look_alike_headers_are_kept_and_the_exact_spelling_is_mapped() -> None:
    header = ["Phone Number", "phoneNumber", "email", "Email", "_id", "ID"]
    assert resolve_mapping(header, None) == ColumnMapping(
        by_field={"phoneNumber": "phoneNumber"}, custom=("Phone Number", "email", "Email", "ID")
    )
    # Without an exact spelling the first look-alike is mapped, the rest stay custom fields.
    assert resolve_mapping(["phone_number", "Phone Number"], None) == ColumnMapping(
        by_field={"phoneNumber": "phone_number"}, custom=("Phone Number",)
    )
