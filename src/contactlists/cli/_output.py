"""What the user commands print, and how they end: tables or JSON on stdout, the rest on stderr.

Exit codes scripts can rely on: 0 done, 1 the service refused or could not be reached (or a
job failed), 2 the command line or its configuration is wrong (nothing was sent).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from contactlists.client import (
    APIConnectionError,
    APIError,
    ContactListsClientError,
    InvalidCredentialsError,
    ListInUseError,
    ValidationFailedError,
)
from contactlists.schemas import format_timestamp

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Widest a table may be when stdout is not a terminal (rich would assume 80 columns).
PIPE_WIDTH = 200


class UsageFailure(Exception):
    """The command line or the configuration is wrong: exit 2, nothing was sent."""


class CommandFailure(Exception):
    """The command did not do what was asked (a failed job, say): exit 1."""


def as_json(value: Any) -> Any:
    """``value`` as plain JSON data: models by their wire names, sequences as arrays."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value


def cell(value: Any) -> Text:
    """A table cell showing ``value`` literally (a name with ``[brackets]`` is not markup)."""
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, int):
        return Text(f"{value:,}")
    if isinstance(value, datetime):
        return Text(timestamp(value))
    return Text(str(value))


def _in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken as UTC already (the wire's times all are)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """As the service writes it: ISO 8601 UTC with milliseconds and ``Z``."""
    return format_timestamp(_in_utc(moment))


def listing() -> Table:
    """A table of many objects: a rule under the header, no boxes, so more fits in a line."""
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)


def short_time(moment: datetime) -> str:
    """``2026-06-26 12:32`` in UTC, for tables (it wraps between date and time)."""
    return _in_utc(moment).strftime("%Y-%m-%d %H:%M")


def id_column(table: Table, header: str, width: int = 39) -> None:
    """A column of ids, never shortened or wrapped: they are copied into other commands."""
    table.add_column(header, no_wrap=True, min_width=width, overflow="ignore")


def details(rows: Iterable[tuple[str, Any]]) -> Table:
    """A two-column table of one object's fields."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, cell(value))
    return table


class Output:
    """Where a command's results and messages go, in the form the user asked for."""

    def __init__(self, *, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet

    @cached_property
    def stdout(self) -> Console:
        console = Console(highlight=False)
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console = Console(highlight=False, width=PIPE_WIDTH)
        return console

    @cached_property
    def stderr(self) -> Console:
        return Console(stderr=True, highlight=False)

    def result(self, value: Any, human: Callable[[], RenderableType | None]) -> None:
        """Print a command's result: ``value`` as one JSON document, or what ``human`` makes."""
        if self.json_mode:
            self.json(value)
            return
        shown = human()
        if isinstance(shown, str):
            shown = Text(shown)
        if shown is not None:
            self.stdout.print(shown)

    def json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(as_json(value), indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        """One plain line on stdout (an id a script captures, say)."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A message for the person at the terminal, on stderr; ``--quiet`` hides it."""
        if not self.quiet:
            self.stderr.print(Text(text), soft_wrap=True)

    def error(self, text: str) -> None:
        self.stderr.print(Text(f"error: {text}"), soft_wrap=True)


def error_lines(failure: BaseException, url: str | None = None) -> list[str]:
    """What to print for an exception the SDK raised: a meaningful first line, then details."""
    if isinstance(failure, APIConnectionError):
        where = f"cannot reach {url}: " if url else ""
        return [f"{where}{failure}"]
    if isinstance(failure, InvalidCredentialsError):
        return [f"{failure}: check the client id and secret (or the token)"]
    if isinstance(failure, ValidationFailedError):
        lines = [str(failure)]
        if len(failure.errors) > 1 or (failure.errors and failure.errors[0].msg != failure.message):
            lines += [
                f"  {entry.field}: {entry.msg}" if entry.field else f"  {entry.msg}"
                for entry in failure.errors
            ]
        return lines
    if isinstance(failure, ListInUseError):
        return [str(failure), "  give --force to detach it from its campaigns and delete it"]
    if isinstance(failure, APIError):
        return [str(failure)]
    return [str(failure) or type(failure).__name__]


def exit_code_of(failure: BaseException) -> int:
    if isinstance(failure, UsageFailure):
        return EXIT_USAGE
    if isinstance(failure, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_ERROR


def run_reporting(out: Output, work: Callable[[], None], *, url: Callable[[], str | None]) -> None:
    """Run a command's ``work``; turn what it raises into ``error: …`` lines and an exit code."""
    try:
        work()
    except (ContactListsClientError, UsageFailure, CommandFailure) as failure:
        lines = error_lines(failure, url() if isinstance(failure, APIConnectionError) else None)
        out.error(lines[0])
        for more in lines[1:]:
            out.stderr.print(Text(more), soft_wrap=True)
        raise typer.Exit(exit_code_of(failure)) from None
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as failure:
        # A file the command reads or writes (an export's --output, say).
        out.error(str(failure))
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        out.error("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
