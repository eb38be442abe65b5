"""``contactlists lists``: create, list, show, update, delete and restore contact lists."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from contactlists.cli._connection import Session, command
from contactlists.cli._output import (
    UsageFailure,
    cell,
    details,
    id_column,
    listing,
    short_time,
    timestamp,
)
from contactlists.client import ContactList, ContactListSummary, ContactListUpdate
from contactlists.lists.schemas import DedupeKey as DedupeKeyValue

app = typer.Typer(help="Contact lists: create, list, show, update, delete, restore.")


class DedupeKey(StrEnum):
    phoneNumber = "phoneNumber"
    uniqueId = "uniqueId"


def sent_key(key: DedupeKey) -> DedupeKeyValue:
    return "uniqueId" if key is DedupeKey.uniqueId else "phoneNumber"


DEDUPE_KEY_HELP = (
    "What makes two contacts of a list without duplicates the same: phoneNumber or uniqueId."
)


class ListKind(StrEnum):
    call = "call"
    sms = "sms"
    dnc = "dnc"


class NewListKind(StrEnum):
    call = "call"
    sms = "sms"


ListId = Annotated[str, typer.Argument(help="The list's id (cl-…).", show_default=False)]


def list_details(item: ContactList) -> Table:
    return details(
        [
            ("id", item.id),
            ("name", item.name),
            ("description", item.description),
            ("type", item.listType),
            ("contacts", item.totalRecordCount),
            ("status", item.status),
            ("allow duplicates", item.allowDuplicates),
            ("default region", item.defaultRegion),
            ("dedupe key", item.dedupeKey),
            ("source", item.source),
            ("columns", ", ".join(item.columns)),
            ("files", ", ".join(f.fileName for f in item.files)),
            ("in use by", ", ".join(f"{c.name} ({c.id})" for c in item.campaignInUse)),
            ("created", f"{timestamp(item.createdAt)} by {item.createdBy}"),
            ("updated", f"{timestamp(item.updatedAt)} by {item.updatedBy}"),
        ]
    )


def lists_table(found: list[ContactListSummary]) -> Table:
    table = listing()
    table.add_column("name", min_width=8)
    id_column(table, "id")
    table.add_column("type")
    table.add_column("contacts", justify="right")
    table.add_column("status")
    table.add_column("in use", justify="right")
    table.add_column("updated", min_width=10)
    for item in found:
        table.add_row(
            cell(item.name),
            cell(item.id),
            cell(item.listType),
            cell(item.totalRecordCount),
            cell(item.status),
            cell(len(item.campaignInUse) or ""),
            cell(short_time(item.updatedAt)),
        )
    table.caption = f"{len(found):,} list{'' if len(found) == 1 else 's'}"
    return table


@app.command("ls")
@command()
def list_lists(
    cli: Session,
    list_type: Annotated[
        ListKind | None,
        typer.Option("--type", help="Only lists of this type (default: call and sms lists)."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(help="Only lists whose name contains this (any case).", show_default=False),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, max=1000, help="At most this many lists (default: all).")
    ] = None,
    skip: Annotated[int | None, typer.Option(min=0, help="Skip this many lists first.")] = None,
) -> None:
    """List the bot's contact lists, most recently updated first."""
    found = cli.api.lists.list(
        list_type=list_type.value if list_type else None, search=search, limit=limit, skip=skip
    )
    cli.out.result(found, lambda: lists_table(found))


@app.command("create")
@command()
def create(
    cli: Session,
    name: Annotated[str, typer.Argument(help="The list's name (1–48 characters, unique).")],
    description: Annotated[
        str | None, typer.Option(help="What the list is for (up to 256 characters).")
    ] = None,
    allow_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-duplicates", help="Keep contacts whose number is already in the list."
        ),
    ] = False,
    list_type: Annotated[
        NewListKind, typer.Option("--type", help="call lists for voice, sms lists for texts.")
    ] = NewListKind.call,
    region: Annotated[
        str | None,
        typer.Option(
            help="ISO 3166 region for numbers written without +, e.g. US (default: the service's).",
            show_default=False,
        ),
    ] = None,
    dedupe_key: Annotated[
        DedupeKey, typer.Option("--dedupe-key", help=DEDUPE_KEY_HELP)
    ] = DedupeKey.phoneNumber,
) -> None:
    """Create a contact list."""
    created = cli.api.lists.create(
        name,
        description=description,
        allow_duplicates=allow_duplicates or None,
        list_type=list_type.value,
        default_region=region,
        # The default is not sent: a request to Kore.ai stays one of its own.
        dedupe_key=None if dedupe_key is DedupeKey.phoneNumber else sent_key(dedupe_key),
    )
    cli.out.result(created, lambda: list_details(created))


@app.command("show")
@command()
def show(cli: Session, list_id: ListId) -> None:
    """Show a contact list."""
    found = cli.api.lists.get(list_id)
    cli.out.result(found, lambda: list_details(found))


def update_summary(result: ContactListUpdate) -> str:
    body = result.body
    changed = [
        f"{label} {value!r}" if isinstance(value, str) else f"{label} {value}"
        for label, value in (
            ("name", body.name),
            ("description", body.description),
            ("allowDuplicates", body.allowDuplicates),
            ("defaultRegion", body.defaultRegion),
            ("dedupeKey", body.dedupeKey),
        )
        if value is not None
    ]
    return f"updated {result.contactListId}: {', '.join(changed)}"


@app.command("update")
@command()
def update(
    cli: Session,
    list_id: ListId,
    name: Annotated[str | None, typer.Option(help="A new name.", show_default=False)] = None,
    description: Annotated[
        str | None, typer.Option(help="A new description.", show_default=False)
    ] = None,
    allow_duplicates: Annotated[
        bool | None,
        typer.Option(
            "--allow-duplicates/--no-allow-duplicates",
            help="Whether contacts whose number is already in the list are kept.",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(help="A new default region (ISO 3166, e.g. GB).", show_default=False),
    ] = None,
    dedupe_key: Annotated[
        DedupeKey | None,
        typer.Option(
            "--dedupe-key",
            help=f"{DEDUPE_KEY_HELP} Only while the list has no contacts.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Change a list's name, description, duplicate policy, default region or dedupe key."""
    given = (name, description, allow_duplicates, region, dedupe_key)
    if all(value is None for value in given):
        raise UsageFailure(
            "nothing to change: give --name, --description, --allow-duplicates/"
            "--no-allow-duplicates, --region or --dedupe-key"
        )
    result = cli.api.lists.update(
        list_id,
        name=name,
        description=description,
        allow_duplicates=allow_duplicates,
        default_region=region,
        dedupe_key=None if dedupe_key is None else sent_key(dedupe_key),
    )
    cli.out.result(result, lambda: update_summary(result))


@app.command("delete")
@command()
def delete(
    cli: Session,
    list_id: ListId,
    force: Annotated[
        bool,
        typer.Option("--force", help="Detach the list from the campaigns using it, then delete."),
    ] = False,
) -> None:
    """Delete a list at once; its contacts are purged in the background.

    The service keeps a deleted list restorable for its trash period (7 days by default).
    """
    deleted = cli.api.lists.delete(list_id, force=force)

    def human() -> None:
        cli.out.line(f"deleted {deleted.name} ({deleted.id})")
        cli.out.note(f"undo it with: contactlists lists restore {deleted.id}")

    cli.out.result(deleted, human)


@app.command("restore")
@command()
def restore(cli: Session, list_id: ListId) -> None:
    """Bring a deleted list back from the trash, with its contacts."""
    restored = cli.api.lists.restore(list_id)
    cli.out.result(restored, lambda: list_details(restored))
