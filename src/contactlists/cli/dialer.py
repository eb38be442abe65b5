"""``contactlists dialer``: lease contacts that may be called now, and count a campaign's."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from contactlists.cli._connection import Session, command
from contactlists.cli._output import cell, details, listing, timestamp
from contactlists.client import DialerSummary, LeasedContact

app = typer.Typer(help="Dialing: lease contacts that may be called now; count a campaign's.")

CampaignId = Annotated[str, typer.Argument(help="The campaign's id (cd-…).", show_default=False)]


def leased_table(found: list[LeasedContact]) -> Table:
    table = listing()
    table.add_column("phone", no_wrap=True)
    table.add_column("name")
    table.add_column("attempt", justify="right", no_wrap=True)
    table.add_column("lease", no_wrap=True)
    table.add_column("lease ends", no_wrap=True)
    for item in found:
        name = " ".join(part for part in (item.firstName, item.lastName) if part)
        table.add_row(
            cell(item.phoneNumber),
            cell(name),
            cell(item.attempt),
            cell(item.leaseId),
            cell(timestamp(item.leaseExpiresAt)),
        )
    table.caption = f"{len(found):,} leased"
    return table


@app.command("next")
@command()
def next_contacts(
    cli: Session,
    campaign_id: CampaignId,
    dialer_id: Annotated[
        str, typer.Option("--dialer-id", help="Who holds the leases.", show_default=False)
    ],
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 10,
    lease_seconds: Annotated[
        int | None,
        typer.Option(min=10, max=3600, help="How long the leases hold (default 300)."),
    ] = None,
) -> None:
    """Lease contacts of an Active campaign that may be called now (JSON: the contacts)."""
    found = cli.api.dialer.next(
        campaign_id, limit=limit, dialer_id=dialer_id, lease_seconds=lease_seconds
    )
    cli.out.result(found, lambda: leased_table(found))


def summary_details(summary: DialerSummary) -> Table:
    rows: list[tuple[str, object]] = [
        ("total", summary.total),
        ("eligible now", summary.eligibleNow),
        ("leased", summary.leased),
        ("waiting retry", summary.waitingRetry),
        ("callbacks", summary.callbacks),
        ("outside window", summary.outsideWindow),
        ("DNC", summary.dnc),
        ("opted out", summary.optedOut),
        ("exhausted", summary.exhausted),
        ("done", summary.done),
    ]
    rows.extend(
        (f"  eligible in {zone}", count)
        for zone, count in sorted(summary.eligibleNowByTimeZone.items())
    )
    return details([(name, f"{value:,}") for name, value in rows])


@app.command("summary")
@command()
def summary(cli: Session, campaign_id: CampaignId) -> None:
    """Count a campaign's contacts by what the dialer would do with them now."""
    found = cli.api.dialer.summary(campaign_id)
    cli.out.result(found, lambda: summary_details(found))
