"""``contactlists dnc``: check numbers against the bot's DNC lists, and add numbers to one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from contactlists.cli._connection import Session, command
from contactlists.cli._output import UsageFailure, cell, listing
from contactlists.client import DncResult

app = typer.Typer(help="Do-not-call lists: check numbers, add numbers.")

DEFAULT_DNC = "Default Global DNC"
MAX_CHECK = 50_000
Numbers = Annotated[
    list[str] | None,
    typer.Argument(help="Phone numbers; none: one per line from stdin.", show_default=False),
]


def numbers_of(given: list[str] | None) -> list[str]:
    found = given or [line.strip() for line in sys.stdin if line.strip()]
    if not found:
        raise UsageFailure("give phone numbers, as arguments or one per line on stdin")
    if len(found) > MAX_CHECK:
        raise UsageFailure(f"at most {MAX_CHECK:,} numbers at once")
    return found


def results_table(found: list[DncResult]) -> Table:
    table = listing()
    table.add_column("number", no_wrap=True)
    table.add_column("E.164", no_wrap=True)
    table.add_column("DNC", no_wrap=True)
    table.add_column("lists")
    for item in found:
        table.add_row(
            cell(item.phoneNumber),
            cell(item.e164 or "not a number"),
            cell("yes" if item.dnc else "no"),
            cell(", ".join(item.lists)),
        )
    held = sum(item.dnc for item in found)
    table.caption = f"{held:,} of {len(found):,} on a DNC list"
    return table


@app.command("check")
@command()
def check(cli: Session, numbers: Numbers = None) -> None:
    """Which numbers the bot's DNC lists hold now (JSON: one result per number, in order)."""
    found = cli.api.dnc.check(numbers_of(numbers))
    cli.out.result(found, lambda: results_table(found))


@app.command("add")
@command()
def add(
    cli: Session,
    numbers: Numbers = None,
    list_name: Annotated[str, typer.Option("--list", help="The DNC list to add to.")] = DEFAULT_DNC,
    expires_at: Annotated[
        str | None,
        typer.Option(help="ISO 8601 time after which the entries no longer count."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why the numbers are added.")] = None,
) -> None:
    """Add numbers to a DNC list (an import job, as addContacts; JSON: the job)."""
    extra = {key: value for key, value in (("expiresAt", expires_at), ("reason", reason)) if value}
    items = [{"phoneNumber": number, **extra} for number in numbers_of(numbers)]
    accepted = cli.api.contacts.add(list_name, items)
    cli.out.result(
        accepted, lambda: f"queued {len(items):,} numbers for {list_name}: {accepted.jobId}"
    )
