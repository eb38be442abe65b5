"""The user commands' building blocks that need no server: progress, input parsing, help."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from contactlists.cli import app, load_command
from contactlists.cli._output import UsageFailure, as_json, timestamp
from contactlists.cli._progress import Meter, duration
from contactlists.cli.contacts import count_rows, parse_mapping
from contactlists.client import RowError

USER_COMMANDS = ("lists", "contacts", "jobs", "campaigns", "dialer", "dnc")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def plain_console() -> tuple[Console, io.StringIO]:
    sink = io.StringIO()
    return Console(file=sink, force_terminal=False, width=80), sink


def test_lines_when_not_a_terminal_first_move_then_every_interval_then_a_summary() -> None:
    console, sink = plain_console()
    clock = Clock()
    with Meter(console, "imported", total=100_000, interval=2.0, clock=clock) as meter:
        meter.update(0)  # queued: nothing to say yet
        clock.now += 0.5
        meter.update(5_000)  # first move: said at once
        clock.now += 0.5
        meter.update(10_000)  # within the interval: quiet
        clock.now += 1.5
        meter.update(25_000)  # 2.0 s after the last line
        clock.now += 5.0
        meter.finish(100_000)
    assert sink.getvalue().splitlines() == [
        "imported 5,000/100,000 rows (10,000 rows/s, ETA 9.5 s)",
        "imported 25,000/100,000 rows (10,000 rows/s, ETA 7.5 s)",
        "imported 100,000 rows in 7.5 s (13,333 rows/s)",
    ]


def test_lines_without_a_total_and_in_bytes() -> None:
    console, sink = plain_console()
    clock = Clock()
    with Meter(console, "exported", clock=clock) as meter:
        clock.now += 1
        meter.update(1)
        meter.finish(1)
    with Meter(console, "uploaded", unit="bytes", total=3_000_000, clock=clock) as meter:
        clock.now += 2
        meter.update(3_000_000)  # done in one step: only the summary
        meter.finish(3_000_000)
    assert sink.getvalue().splitlines() == [
        "exported 1 row (1 rows/s)",
        "exported 1 row in 1.0 s (1 rows/s)",
        "uploaded 3.0 MB in 2.0 s (1.5 MB/s)",
    ]


def test_a_bar_on_a_terminal() -> None:
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=120, color_system=None)
    with Meter(console, "imported", total=100_000) as meter:
        meter.update(40_000)
        meter.finish(100_000)
    shown = sink.getvalue()
    assert "imported" in shown
    assert "100,000/100,000 rows" in shown
    assert "rows/s" in shown


def test_no_progress_when_disabled() -> None:
    console, sink = plain_console()
    with Meter(console, "imported", total=10, enabled=False) as meter:
        meter.update(5)
        meter.finish(10)
    assert sink.getvalue() == ""


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.04, "0.0 s"), (9.5, "9.5 s"), (42.4, "42 s"), (125, "2 min 05 s"), (7260, "2 h 01 min")],
)
def test_durations(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_json_uses_wire_names() -> None:
    error = RowError(row=2, field="phoneNumber", code="c", value="v", message="m")
    assert as_json([error, {"k": (1, None)}]) == [
        {"row": 2, "field": "phoneNumber", "code": "c", "value": "v", "message": "m"},
        {"k": [1, None]},
    ]


def test_timestamps_are_shown_as_the_service_writes_them() -> None:
    moment = datetime(2026, 6, 26, 12, 32, 2, 735_999, tzinfo=UTC)
    assert timestamp(moment) == "2026-06-26T12:32:02.735Z"
    elsewhere = moment.astimezone(timezone(timedelta(hours=2)))
    assert timestamp(elsewhere) == "2026-06-26T12:32:02.735Z"


@pytest.mark.parametrize(
    ("mapping", "pairs", "expected"),
    [
        (None, None, None),
        ('{"phoneNumber": "Phone"}', None, {"phoneNumber": "Phone"}),
        (
            None,
            ["phoneNumber=Phone", "firstName = First=Name"],
            {"phoneNumber": "Phone", "firstName": " First=Name"},
        ),
        (
            '{"phoneNumber": "Phone", "uniqueId": "Id"}',
            ["phoneNumber=Cell"],
            {"phoneNumber": "Cell", "uniqueId": "Id"},
        ),
    ],
    ids=["none", "json", "pairs", "pairs-override-json"],
)
def test_mappings(
    mapping: str | None, pairs: list[str] | None, expected: dict[str, str] | None
) -> None:
    assert parse_mapping(mapping, pairs) == expected


@pytest.mark.parametrize(
    ("mapping", "pairs"),
    [("{", None), ("[]", None), ('{"a": 1}', None), (None, ["phoneNumber"]), (None, ["=Phone"])],
)
def test_bad_mappings(mapping: str | None, pairs: list[str] | None) -> None:
    with pytest.raises(UsageFailure):
        parse_mapping(mapping, pairs)


def test_rows_are_counted_in_plain_and_gzip_files(tmp_path: Path) -> None:
    text = 'phoneNumber,note\n+14155550101,"two\nlines"\n+14155550102,plain\n+14155550103,last'
    plain = tmp_path / "a.csv"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "a.bin"  # gzip is told by its bytes, not its name
    packed.write_bytes(gzip.compress(text.encode()))
    assert count_rows(plain) == 3
    assert count_rows(packed) == 3
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert count_rows(empty) == 0
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(text.encode())[:20])
    assert count_rows(broken) is None


def walk(command: Any, path: str) -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += walk(sub, f"{path} {name}")
    return found


def test_every_user_command_and_option_has_help() -> None:
    for group in USER_COMMANDS:
        for path, command in walk(load_command(group), group):
            assert (command.help or "").strip(), f"{path} has no help"
            for param in command.params:
                if param.param_type_name == "option":
                    assert (param.help or "").strip(), f"{path} {param.opts} has no help"
                else:
                    assert (getattr(param, "help", "") or "").strip(), f"{path} {param.name}"


def test_the_root_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in (*USER_COMMANDS, "serve", "worker", "db", "apps", "token"):
        assert name in result.stdout
    shown = CliRunner().invoke(app, ["lists", "ls", "--help"], env={"COLUMNS": "200"})
    assert "--url" in shown.stdout
    assert "CONTACTLISTS_URL" in shown.stdout
