"""``contactlists apps``: create, list and revoke the apps that may call the API.

The server is imported inside the commands: this module loads without the server extra.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from contactlists.cli import webhooks
from contactlists.cli._common import DatabaseOption, fail, needs_server
from contactlists.cli._output import Output, cell, details, listing
from contactlists.schemas import format_timestamp

if TYPE_CHECKING:
    from contactlists.models.apps import App

app = typer.Typer(help="Manage API apps (credentials) and their webhooks.", no_args_is_help=True)
app.add_typer(webhooks.app, name="webhook")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def app_as_json(item: App, *, with_secret: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"clientId": item.client_id}
    if with_secret:
        result["clientSecret"] = item.client_secret
    result |= {
        "name": item.name,
        "accountId": item.account_id,
        "orgId": item.org_id,
        "bots": item.bots if item.bots is not None else "all",
        "scopes": item.scopes,
        "algorithms": item.algorithms,
        "createdAt": format_timestamp(item.created_at),
        "revokedAt": format_timestamp(item.revoked_at) if item.revoked_at else None,
    }
    return result


@app.command("create")
@needs_server
def create(
    name: Annotated[str, typer.Option(help="A name to recognise the app by.")],
    account_id: Annotated[
        str | None, typer.Option(help="24 hex characters; generated when not given.")
    ] = None,
    bot: Annotated[
        list[str] | None, typer.Option("--bot", help="A bot (st-…) the app may use; repeatable.")
    ] = None,
    all_bots: Annotated[
        bool, typer.Option("--all-bots", help="The app may use every bot (the default).")
    ] = False,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="campaign-management (default) or campaign-read; repeatable."),
    ] = None,
    algorithm: Annotated[
        list[str] | None, typer.Option("--algorithm", help="HS256 (default) or HS512; repeatable.")
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an app and print its credentials (the secret is shown only here)."""
    from contactlists.apps import service
    from contactlists.cli._database import in_transaction, settings_for

    if bot and all_bots:
        raise fail("give --bot or --all-bots, not both")
    new = service.NewApp(
        name=name,
        account_id=account_id,
        bots=bot or None,
        scopes=scope or (service.SCOPE_MANAGE,),
        algorithms=algorithm or ("HS256",),
    )
    try:
        created = in_transaction(
            settings_for(database_url).database_url, lambda s: service.create(s, new)
        )
    except service.AppInputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(app_as_json(created, with_secret=True), indent=2))
        return
    typer.echo(f"clientId:     {created.client_id}")
    typer.echo(f"clientSecret: {created.client_secret}")
    typer.echo(f"accountId:    {created.account_id}")
    typer.echo(f"orgId:        {created.org_id}")
    typer.echo(f"bots:         {', '.join(created.bots) if created.bots else 'all'}")
    typer.echo(f"scopes:       {', '.join(created.scopes)}")


@app.command("list")
@needs_server
def list_(as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """List every app (secrets are not shown); one block per app when a table does not fit."""
    from contactlists.apps import service
    from contactlists.cli._database import in_transaction, settings_for

    found = in_transaction(settings_for(database_url).database_url, service.list_apps)
    if as_json:
        typer.echo(json.dumps([app_as_json(a, with_secret=False) for a in found], indent=2))
        return
    console = Output().stdout
    rows = [_app_fields(item) for item in found]
    table = _apps_table(rows)
    # Ids are copied into other commands (`apps revoke`): never shortened. When the whole
    # table does not fit, each app is a block of its fields rather than a table whose other
    # columns are squeezed to nothing.
    unbounded = console.options.update_width(UNBOUNDED_WIDTH)
    if console.measure(table, options=unbounded).maximum <= console.width:
        console.print(table)
        return
    for index, values in enumerate(rows):
        if index:
            console.print()
        console.print(details(zip(APP_FIELDS, values, strict=True)))


UNBOUNDED_WIDTH = 100_000  # to measure the table's natural width, whatever the terminal's
APP_FIELDS = ("clientId", "name", "accountId", "bots", "scopes", "state")


def _app_fields(item: App) -> list[str]:
    return [
        item.client_id,
        item.name,
        item.account_id,
        ", ".join(item.bots) if item.bots else "all",
        ", ".join(item.scopes),
        "revoked" if item.revoked_at else "active",
    ]


def _apps_table(rows: list[list[str]]) -> Table:
    table = listing()
    for name in APP_FIELDS:
        table.add_column(name, no_wrap=True)
    for values in rows:
        table.add_row(*(cell(value) for value in values))
    return table


@app.command("revoke")
@needs_server
def revoke(
    client_id: Annotated[str, typer.Argument(help="The clientId (cs-…) to revoke.")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an app: its tokens are refused from now on."""
    from contactlists.apps import service
    from contactlists.cli._database import in_transaction, settings_for

    try:
        in_transaction(
            settings_for(database_url).database_url, lambda s: service.revoke(s, client_id)
        )
    except service.UnknownApp:
        raise fail(f"no app with clientId {client_id}") from None
    typer.echo(f"revoked {client_id}")
