"""RecordCounter: the records of CSV bytes fed in any chunks, counted as csv.reader counts them."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactlists.client._rows import RecordCounter


def count(*chunks: bytes) -> tuple[int, int]:
    """(records ended by a line break, records in all) after feeding ``chunks``."""
    counter = RecordCounter()
    ended = sum(counter.feed(chunk) for chunk in chunks)
    assert ended == counter.records
    return counter.records, counter.total()


def records_by_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode(), newline="")))


def test_nothing_is_no_record() -> None:
    assert count() == (0, 0)
    assert count(b"") == (0, 0)
    assert count(b"", b"") == (0, 0)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\n", (1, 1)),
        (b"a,b\r\n", (1, 1)),
        (b"a,b\nc,d\n", (2, 2)),
        # No line break after the last record: it still counts in the total.
        (b"a,b\nc,d", (1, 2)),
        (b"a", (0, 1)),
        # A line break in a quoted cell ends nothing.
        (b'a,"two\nlines"\nb,c\n', (2, 2)),
        (b'a,"two\r\nlines"\r\nb,c\r\n', (2, 2)),
        (b'"one\n\n\nmany"', (0, 1)),
        # Escaped quotes ("") keep the cell quoted.
        (b'a,"say ""hi""\nthere"\n', (1, 1)),
        (b'a,""\nb,"""\n"""\n', (2, 2)),
        # Empty lines are records to csv too.
        (b"a\n\nb\n", (3, 3)),
    ],
)
def test_counts_whole_input(data: bytes, expected: tuple[int, int]) -> None:
    assert count(data) == expected
    assert expected[1] == records_by_csv(data)


@pytest.mark.parametrize(
    "chunks",
    [
        # A quoted newline whose quotes fall in different chunks.
        [b'id,note\n1,"first', b"\nsecond", b'"\n2,x\n'],
        # The opening quote alone at a chunk's end, the closing one alone at the next start.
        [b'id,note\n1,"', b"a\nb", b'"', b"\n2,x\n"],
        # An escaped quote split in its middle: "" across two chunks.
        [b'id,note\n1,"say "', b'"hi""\nthere"\n2,x\n'],
        # CRLF split between chunks.
        [b"id,note\r", b"\n1,x\r", b"\n2,x\r", b"\n"],
        # One byte at a time.
        [bytes([byte]) for byte in b'id,note\r\n1,"a\r\nb"\r\n2,"""q"""\r\n'],
    ],
)
def test_chunk_borders_do_not_change_the_count(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    assert count(*chunks) == count(data) == (3, 3)
    assert records_by_csv(data) == 3


def test_a_last_record_without_a_line_break_counts_once_in_any_chunking() -> None:
    assert count(b"id\n1\n", b"2") == (2, 3)
    assert count(b"id\n1\n2") == (2, 3)
    # A chunk ending in the line break, then nothing more: no open record.
    assert count(b"id\n1\n", b"2\n", b"") == (3, 3)
    # The file ends inside a quoted cell's line break: that record is open.
    assert count(b'id\n"1\n') == (1, 2)


def test_feed_returns_the_records_each_chunk_ends() -> None:
    counter = RecordCounter()
    assert counter.feed(b'h\n"a') == 1
    assert counter.feed(b"\n\n") == 0
    assert counter.feed(b'"\nb\nc') == 2
    assert (counter.records, counter.total()) == (3, 4)


# ---------------------------------------------------------------- property

plain_cells = st.text(st.characters(codec="utf-8", exclude_characters=',"\r\n'), max_size=6)
quoted_cells = st.lists(
    st.sampled_from(["a", "é", "😀", ",", '"', "\r", "\n", "\r\n", " "]), max_size=8
).map(lambda parts: '"' + "".join(parts).replace('"', '""') + '"')
cells = st.one_of(plain_cells, quoted_cells)
records = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=12)


@st.composite
def csv_streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A well-formed CSV file (any line ending, last one optional) cut into random chunks."""
    rows = draw(records)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(",".join(row) for row in rows)
    if rows and draw(st.booleans()):
        text += newline
    data = text.encode()
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return data, [data[start:end] for start, end in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(csv_streams())
def test_counts_as_csv_reader_does_in_any_chunking(stream: tuple[bytes, list[bytes]]) -> None:
    data, chunks = stream
    counter = RecordCounter()
    for chunk in chunks:
        counter.feed(chunk)
    expected = records_by_csv(data)
    assert counter.total() == expected
    # Only a last record without its line break is not yet ended.
    unterminated = 1 if data and not data.endswith(b"\n") else 0
    assert counter.records == expected - unterminated
