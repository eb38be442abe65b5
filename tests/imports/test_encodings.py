"""The `encoding` of a CSV upload (imports.encodings) and CSV files read in it (csv_files)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from contactlists.errors import ValidationFailed
from contactlists.imports import csv_files
from contactlists.imports.csv_files import CsvFileError, FileLimits, inspect_file, read_rows
from contactlists.imports.encodings import DEFAULT_ENCODING, guess, parse_encoding

LIMITS = FileLimits(decompressed_bytes=64 * 1024 * 1024, ratio=100)
TEXT = (
    "phoneNumber,firstName,lastName,city,notes\r\n"
    "+12125550100,José,Muñoz,Düsseldorf,paid 5 €\r\n"
    "+12125550101,Renée,Ibáñez,Zürich,señor\r\n"
    "+12125550102,François,Müller,München,über\r\n"
)


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("sent", "codec"),
    [
        (None, DEFAULT_ENCODING),
        ("", DEFAULT_ENCODING),
        ("utf-8", DEFAULT_ENCODING),
        ("UTF8", DEFAULT_ENCODING),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("windows-1252", "cp1252"),
        ("latin-1", "iso8859-1"),
        (" mac_roman ", "mac-roman"),
        ("utf-16", "utf-16"),
        ("UTF-16LE", "utf-16-le"),
    ],
)
def test_text_encodings_are_accepted_by_any_of_their_names(sent: str | None, codec: str) -> None:
    assert parse_encoding(sent) == codec


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ("klingon", "unknown encoding"),
        ("rot13", "not a text encoding"),
        ("hex", "not a text encoding"),
        ("zlib", "not a text encoding"),
        ("u" * 41, "at most 40"),
        ("utf 8", "at most 40"),
        ("../../etc/passwd", "at most 40"),
        ("utf-8\x00", "at most 40"),
        ("-utf8", "at most 40"),
    ],
)
def test_other_names_are_refused_naming_the_field(sent: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_encoding(sent)
    [problem] = caught.value.problems
    assert problem.field == "encoding"
    assert says in problem.msg


@pytest.mark.parametrize("codec", ["cp1252", "mac-roman", "utf-16", "utf-16-le", "utf-8"])
def test_the_likely_encoding_is_guessed(codec: str) -> None:
    assert guess(TEXT.encode(codec)) == codec


@pytest.mark.parametrize("codec", ["cp1252", "mac_roman", "utf-16", "utf-16-le", "iso8859-15"])
def test_a_file_is_read_in_its_encoding(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path, TEXT.encode(codec))
    encoding = parse_encoding(codec)
    header = inspect_file(path, encoding)
    csv_files.check_whole_file(path, LIMITS, encoding)
    assert header == ["phoneNumber", "firstName", "lastName", "city", "notes"]
    rows = list(read_rows(path, csv_files.resolve_mapping(header, None), encoding=encoding))
    assert [record["lastName"] for _, record in rows] == ["Muñoz", "Ibáñez", "Müller"]
    assert rows[0][1]["notes"] == "paid 5 €"


@pytest.mark.parametrize(
    ("codec", "named"), [("cp1252", "cp1252"), ("mac_roman", "mac-roman"), ("utf-16", "utf-16")]
)
def test_a_file_not_in_the_encoding_sent_is_refused_naming_the_likely_one(
    tmp_path: Path, codec: str, named: str
) -> None:
    path = write(tmp_path, TEXT.encode(codec))
    with pytest.raises(CsvFileError) as caught:
        inspect_file(path)
    assert caught.value.field == "file"
    assert "not UTF-8 text" in caught.value.message
    assert f"it looks like {named} — send encoding={named}" in caught.value.message


def test_a_utf8_file_sent_as_utf16_is_refused_naming_utf8(tmp_path: Path) -> None:
    # Odd length: UTF-16 cannot decode it.
    path = write(tmp_path, (TEXT + "x").encode())
    with pytest.raises(CsvFileError) as caught:
        inspect_file(path, "utf-16")
    assert "not utf-16 text" in caught.value.message
    assert "send encoding=utf-8" in caught.value.message


def test_damage_past_the_sniff_names_the_likely_encoding(tmp_path: Path) -> None:
    # 64 KiB and more of ASCII, then Windows-1252 accents: only the whole-file check sees them.
    ascii_rows = "".join(f"+1212555{n % 10_000:04d},Ann,Lee,Rome,x\r\n" for n in range(3000))
    path = write(tmp_path, (TEXT.split("\r\n", 1)[0] + "\r\n" + ascii_rows + TEXT).encode("cp1252"))
    assert inspect_file(path)
    with pytest.raises(CsvFileError) as caught:
        csv_files.check_whole_file(path, LIMITS)
    assert caught.value.message.startswith("after line ")
    assert "send encoding=cp1252" in caught.value.message


def test_binary_data_is_still_refused_as_binary(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 10)
    with pytest.raises(CsvFileError) as caught:
        inspect_file(path)
    assert "NUL" in caught.value.message
    assert "send encoding" not in caught.value.message


def test_a_byte_order_mark_is_dropped_in_any_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffphoneNumber,x\r\n+12125550100,é\r\n".encode("utf-16-le"))
    assert inspect_file(path, "utf-16-le") == ["phoneNumber", "x"]


def test_a_gzipped_file_is_decoded_after_it_is_decompressed(tmp_path: Path) -> None:
    path = write(tmp_path, gzip.compress(TEXT.encode("cp1252")))
    header = inspect_file(path, "cp1252")
    csv_files.check_whole_file(path, LIMITS, "cp1252")
    rows = list(read_rows(path, csv_files.resolve_mapping(header, None), encoding="cp1252"))
    assert rows[2][1]["firstName"] == "François"
