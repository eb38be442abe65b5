"""Write a CSV of generated contacts, deterministic by seed, streaming to disk.

Mixed formats as customers send them: E.164, US national numbers with punctuation, a few GB
numbers with +44; about 1% invalid numbers and 5% duplicates (an earlier number again, often
written differently, so that only the normalised form repeats); some custom columns.

    python -m bench.generate --rows 1000000 --out /tmp/contacts.csv
    python -m bench.generate --bytes 1G --out /tmp/contacts-1g.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

HEADER = (
    "phoneNumber",
    "firstName",
    "lastName",
    "timeZone",
    "uniqueId",
    "contactPriority",
    "city",
    "segment",
    "Account Number",
)
Row = tuple[str, ...]

# Real US area codes: every NPA-NXX-XXXX with NXX in 200-999 is a valid number in libphonenumber.
_US_AREA_CODES = (
    "201", "202", "203", "205", "206", "207", "208", "209", "210", "212",
    "213", "214", "215", "216", "217", "218", "219", "224", "225", "228",
    "301", "302", "303", "304", "305", "307", "308", "309", "310", "312",
    "313", "314", "315", "316", "317", "318", "319", "320", "321", "323",
    "404", "405", "406", "407", "408", "409", "410", "412", "413", "414",
    "415", "417", "419", "423", "424", "425", "503", "504", "505", "507",
    "508", "509", "510", "512", "513", "515", "516", "517", "518", "520",
    "602", "603", "605", "606", "607", "608", "609", "610", "612", "614",
    "615", "616", "617", "618", "619", "620", "623", "626", "630", "631",
    "702", "703", "704", "706", "707", "708", "712", "713", "714", "715",
)  # fmt: skip
_FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Amélie", "José", "Zoë", "Siobhán", "Björn", "Chloé", "Søren", "Ana",
)  # fmt: skip
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "O'Brien", "Müller", "Núñez", "Ødegaard", "Smith-Jones",
)  # fmt: skip
_CITIES = ("Boston", "Chicago", "Denver", "Austin", "Seattle", "London", "Miami", "Portland")
_SEGMENTS = ("gold", "silver", "bronze", "trial", "churned", "")
_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")

INVALID_SHARE = 0.01
DUPLICATE_SHARE = 0.05
GB_EVERY = 33  # one distinct number in 33 is a GB number (about 3%)
_DUPLICATE_WINDOW = 5_000


@dataclass
class Counts:
    rows: int = 0
    invalid: int = 0
    duplicates: int = 0
    bytes: int = 0


def _digits(index: int) -> tuple[str, str]:
    """The ``index``-th distinct number: (country code, national digits); never repeats."""
    if index % GB_EVERY == 0:
        # London, 020 7xxx xxxx: ten million numbers, enough for any file size used here.
        return "44", f"207{(index // GB_EVERY) % 10_000_000:07d}"
    npa = _US_AREA_CODES[index % len(_US_AREA_CODES)]
    rest = index // len(_US_AREA_CODES)
    exchange = 200 + rest % 800
    line = (rest // 800) % 10_000
    return "1", f"{npa}{exchange:03d}{line:04d}"


def _written(index: int, rng: random.Random) -> str:
    """The number as a customer might write it."""
    country, national = _digits(index)
    style = rng.random()
    if country == "44":
        if style < 0.5:
            return f"+44{national}"
        return f"+44 {national[:2]} {national[2:6]} {national[6:]}"
    npa, exchange, line = national[:3], national[3:6], national[6:]
    if style < 0.55:
        return f"+1{national}"
    if style < 0.70:
        return f"({npa}) {exchange}-{line}"
    if style < 0.80:
        return f"{npa}.{exchange}.{line}"
    if style < 0.90:
        return f"{npa}-{exchange}-{line}"
    return f"1 {npa} {exchange} {line}"


def _invalid(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.randrange(1_000, 1_000_000))  # too short
    if kind == 1:
        return f"+1 {rng.randrange(100, 200)} {rng.randrange(100, 999)} {rng.randrange(10**4):04d}"
    if kind == 2:
        return f"call me {rng.randrange(100)}"
    return f"+999{rng.randrange(10**8):08d}"  # no such country code


def contacts(seed: int = 1, counts: Counts | None = None) -> Iterator[Row]:
    """An endless stream of rows in HEADER's order; ``counts`` is updated as rows are made."""
    rng = random.Random(seed)
    counts = counts if counts is not None else Counts()
    distinct = 0
    while True:
        share = rng.random()
        if share < INVALID_SHARE:
            phone = _invalid(rng)
            counts.invalid += 1
        elif share < INVALID_SHARE + DUPLICATE_SHARE and distinct:
            phone = _written(distinct - 1 - rng.randrange(min(distinct, _DUPLICATE_WINDOW)), rng)
            counts.duplicates += 1
        else:
            phone = _written(distinct, rng)
            distinct += 1
        counts.rows += 1
        yield (
            phone,
            rng.choice(_FIRST),
            rng.choice(_LAST),
            rng.choice(_ZONES) if rng.random() < 0.1 else "",
            f"U{counts.rows:09d}",
            str(rng.randrange(1, 6)) if rng.random() < 0.5 else "",
            rng.choice(_CITIES),
            rng.choice(_SEGMENTS),
            f"{rng.randrange(10**9):09d}",
        )


def items(rows: Iterator[Row], count: int) -> list[dict[str, str]]:
    """``count`` rows as addContacts items: known fields only when set, custom fields always."""
    known = len(HEADER) - 3
    return [
        {
            **{key: value for key, value in zip(HEADER[:known], row[:known], strict=True) if value},
            **dict(zip(HEADER[known:], row[known:], strict=True)),
        }
        for row in islice(rows, count)
    ]


def write_csv(
    out: Path, *, rows: int | None = None, size: int | None = None, seed: int = 1
) -> Counts:
    """Write ``rows`` data rows, or rows until the file holds at least ``size`` bytes."""
    if (rows is None) == (size is None):
        raise ValueError("give rows or size")
    counts = Counts()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        stream = contacts(seed, counts)
        if rows is not None:
            writer.writerows(islice(stream, rows))
        else:
            assert size is not None
            while file.tell() < size:
                writer.writerows(islice(stream, 10_000))
        counts.bytes = file.tell()
    return counts


def parse_size(text: str) -> int:
    """Bytes from "1000", "100M", "1G" (powers of 1024)."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    suffix = text[-1:].upper()
    if suffix in units:
        return int(float(text[:-1]) * units[suffix])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--rows", type=int, help="number of data rows")
    amount.add_argument(
        "--bytes", type=parse_size, help="write until the file is this big (100M, 1G)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    counts = write_csv(args.out, rows=args.rows, size=args.bytes, seed=args.seed)
    print(
        f"{args.out}: {counts.rows} rows, {counts.bytes} bytes, "
        f"{counts.invalid} invalid, {counts.duplicates} duplicates",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
