"""``contactlists campaigns``: the campaigns that use contact lists, and their status."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

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
from contactlists.client import Campaign, TriggerResult

app = typer.Typer(
    help="Campaigns: create, list, show, update, delete; status, start, pause, resume, stop."
)

CampaignTypeName = Literal["voice", "sms"]


class CampaignKind(StrEnum):
    voice = "voice"
    sms = "sms"


CampaignId = Annotated[str, typer.Argument(help="The campaign's id (cd-…).", show_default=False)]
BodyOption = Annotated[
    str,
    typer.Option(
        "--body",
        help="The campaign as JSON (Kore.ai's create body): a file, or - for stdin.",
        show_default=False,
    ),
]
TypeOption = Annotated[
    CampaignKind | None,
    typer.Option(
        "--type",
        help="voice or sms (default: the body's campaignType, else the campaign's own).",
        show_default=False,
    ),
]


def kind(value: CampaignKind | None) -> CampaignTypeName | None:
    return value.value if value else None


def read_body(source: str) -> dict[str, Any]:
    """A campaign body: a JSON object from a file, or from stdin for ``-``."""
    name = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageFailure(f"cannot read --body {source}: {exc}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFailure(f"--body {name} is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise UsageFailure(f"--body {name} must hold a JSON object (the campaign)")
    return body


def campaign_details(item: Campaign) -> Table:
    return details(
        [
            ("id", item.id),
            ("name", item.name),
            ("description", item.description),
            ("type", item.campaignType),
            ("status", item.status),
            ("priority", item.priority),
            ("dialing mode", item.dialingMode),
            ("contact lists", ", ".join(item.contactLists)),
            ("DNC list", item.dncLists.name if item.dncLists else None),
            ("created", f"{timestamp(item.createdAt)} by {item.createdBy}"),
            ("updated", f"{timestamp(item.updatedAt)} by {item.updatedBy}"),
        ]
    )


def campaigns_table(found: list[Campaign], total: int) -> Table:
    table = listing()
    table.add_column("name", min_width=12)
    id_column(table, "id")
    table.add_column("status", no_wrap=True)
    table.add_column("priority", justify="right", no_wrap=True)
    table.add_column("contact lists")
    table.add_column("updated", min_width=10)
    for item in found:
        table.add_row(
            cell(item.name),
            cell(item.id),
            cell(item.status),
            cell(item.priority),
            cell(", ".join(item.contactLists)),
            cell(short_time(item.updatedAt)),
        )
    table.caption = f"{len(found):,} of {total:,} campaign{'' if total == 1 else 's'}"
    return table


@app.command("ls")
@command()
def list_campaigns(
    cli: Session,
    campaign_type: Annotated[
        CampaignKind, typer.Option("--type", help="Which campaigns: voice or sms.")
    ] = CampaignKind.voice,
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="At most this many (default: the service's page)."),
    ] = None,
    skip: Annotated[int | None, typer.Option(min=0, help="Skip this many first.")] = None,
) -> None:
    """List the bot's campaigns of one type (JSON: an array of campaigns)."""
    page = cli.api.campaigns.list(campaign_type.value, limit=limit, skip=skip)
    cli.out.result(page.results, lambda: campaigns_table(page.results, page.totalResults))


@app.command("create")
@command()
def create(cli: Session, body: BodyOption, campaign_type: TypeOption = None) -> None:
    """Create a campaign from a JSON body; its contact lists are named in contactLists."""
    content = read_body(body)
    created = cli.api.campaigns.create(content, campaign_type=kind(campaign_type))
    cli.out.result(created, lambda: campaign_details(created))


@app.command("show")
@command()
def show(cli: Session, campaign_id: CampaignId) -> None:
    """Show a campaign."""
    found = cli.api.campaigns.get(campaign_id)
    cli.out.result(found, lambda: campaign_details(found))


@app.command("update")
@command()
def update(
    cli: Session, campaign_id: CampaignId, body: BodyOption, campaign_type: TypeOption = None
) -> None:
    """Replace a campaign's settings with a JSON body (the whole campaign, as at create)."""
    content = read_body(body)
    updated = cli.api.campaigns.update(campaign_id, content, campaign_type=kind(campaign_type))
    cli.out.result(updated, lambda: campaign_details(updated))


@app.command("delete")
@command()
def delete(cli: Session, campaign_id: CampaignId, campaign_type: TypeOption = None) -> None:
    """Delete a campaign (not while it is Active); its lists are free to delete after."""
    deleted = cli.api.campaigns.delete(campaign_id, campaign_type=kind(campaign_type))
    cli.out.result(deleted, lambda: f"deleted {deleted.name} ({deleted.id})")


@app.command("status")
@command()
def status(cli: Session, campaign_id: CampaignId) -> None:
    """Show a campaign's status: Ready, Active, Paused or Stopped."""
    found = cli.api.campaigns.status(campaign_id)
    cli.out.result(found, lambda: f"{found.name} ({found.id}): {found.status}")


def triggered(cli: Session, campaign_id: str, result: TriggerResult) -> None:
    cli.out.result(result, lambda: f"{campaign_id}: {result.status} ({result.message})")


@app.command("start")
@command()
def start(cli: Session, campaign_id: CampaignId) -> None:
    """Start a Ready campaign (Kore.ai's trigger=play): it becomes Active."""
    triggered(cli, campaign_id, cli.api.campaigns.play(campaign_id))


@app.command("pause")
@command()
def pause(cli: Session, campaign_id: CampaignId) -> None:
    """Pause an Active campaign."""
    triggered(cli, campaign_id, cli.api.campaigns.pause(campaign_id))


@app.command("resume")
@command()
def resume(cli: Session, campaign_id: CampaignId) -> None:
    """Resume a Paused campaign: it becomes Active again."""
    triggered(cli, campaign_id, cli.api.campaigns.resume(campaign_id))


@app.command("stop")
@command()
def stop(cli: Session, campaign_id: CampaignId) -> None:
    """Stop an Active campaign for good (a Paused one must be resumed before)."""
    triggered(cli, campaign_id, cli.api.campaigns.stop(campaign_id))
