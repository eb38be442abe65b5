"""``contactlists apps webhook``: the URLs an app is told of events at (add, ls, rm).

The server is imported inside the commands: this module loads without the server extra.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contactlists.cli._common import DatabaseOption, fail, needs_server
from contactlists.cli._output import Output, details, listing, timestamp

if TYPE_CHECKING:
    from contactlists.webhooks.service import HookView

app = typer.Typer(
    help="Webhooks: URLs an app is told of events at (job.completed, job.failed, "
    "list.deleted, list.restored).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ClientIdArgument = Annotated[str, typer.Argument(help="The app's clientId (cs-…).")]


@app.command("add")
@needs_server
def add(
    client_id: ClientIdArgument,
    url: Annotated[
        str,
        typer.Argument(
            help="https:// URL to POST events to (http:// only with "
            "CONTACTLISTS_WEBHOOK_ALLOW_HTTP=true)."
        ),
    ],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="job.completed, job.failed, list.deleted or list.restored; repeatable "
            "(default: all of them).",
        ),
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Register a webhook and print the key its receiver verifies signatures with."""
    from contactlists.cli._database import in_transaction, settings_for
    from contactlists.webhooks import service
    from contactlists.webhooks.urls import WebhookInputError

    settings = settings_for(database_url)
    try:
        added = in_transaction(
            settings.database_url,
            lambda s: service.add(
                s, client_id, url, events=event or (), allow_http=settings.webhook_allow_http
            ),
        )
    except service.UnknownApp:
        raise fail(f"no app with clientId {client_id}") from None
    except WebhookInputError as exc:
        raise fail(str(exc)) from None
    hook = added.hook
    if as_json:
        shown = {
            "id": hook.id,
            "url": hook.url,
            "events": hook.events,
            "signingKey": added.signing_key,
            "createdAt": timestamp(hook.created_at),
        }
        typer.echo(json.dumps(shown, indent=2))
        return
    typer.echo(f"id:         {hook.id}")
    typer.echo(f"url:        {hook.url}")
    typer.echo(f"events:     {', '.join(hook.events)}")
    typer.echo(f"signingKey: {added.signing_key}")


def hook_as_json(view: HookView) -> dict[str, Any]:
    hook = view.hook
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "createdAt": timestamp(hook.created_at),
        "deliveries": view.counts,
        "lastAttempts": [
            {
                "at": timestamp(seen.at),
                "attempt": seen.attempt,
                "event": seen.event_type,
                "eventId": seen.event_id,
                "statusCode": seen.status_code,
                "error": seen.error,
                "state": seen.state,
            }
            for seen in view.last_attempts
        ],
    }


@app.command("ls")
@needs_server
def ls(
    client_id: ClientIdArgument, as_json: JsonOption = False, database_url: DatabaseOption = None
) -> None:
    """List the app's webhooks, each with its deliveries per state and its last tries."""
    from contactlists.cli._database import in_transaction, settings_for
    from contactlists.webhooks import service

    try:
        views = in_transaction(
            settings_for(database_url).database_url, lambda s: service.of_app(s, client_id)
        )
    except service.UnknownApp:
        raise fail(f"no app with clientId {client_id}") from None
    if as_json:
        typer.echo(json.dumps([hook_as_json(view) for view in views], indent=2))
        return
    console = Output().stdout
    if not views:
        console.print(f"no webhooks for {client_id}")
        return
    for index, view in enumerate(views):
        if index:
            console.print()
        counts = ", ".join(f"{state} {count}" for state, count in sorted(view.counts.items()))
        console.print(
            details(
                [
                    ("id", view.hook.id),
                    ("url", view.hook.url),
                    ("events", ", ".join(view.hook.events)),
                    ("deliveries", counts or "none yet"),
                ]
            )
        )
        if view.last_attempts:
            table = listing()
            for name in ("at", "attempt", "event", "result", "delivery"):
                table.add_column(name, no_wrap=name != "result")
            for seen in view.last_attempts:
                result = str(seen.status_code) if seen.status_code is not None else seen.error
                table.add_row(
                    timestamp(seen.at), str(seen.attempt), seen.event_type, result, seen.state
                )
            console.print(table)


@app.command("rm")
@needs_server
def rm(
    client_id: ClientIdArgument,
    hook_id: Annotated[str, typer.Argument(help="The webhook's id (wh-…), as `ls` shows it.")],
    database_url: DatabaseOption = None,
) -> None:
    """Remove a webhook; its deliveries not yet made are dropped with it."""
    from contactlists.cli._database import in_transaction, settings_for
    from contactlists.webhooks import service

    try:
        in_transaction(
            settings_for(database_url).database_url,
            lambda s: service.remove(s, client_id, hook_id),
        )
    except service.UnknownApp:
        raise fail(f"no app with clientId {client_id}") from None
    except service.UnknownHook:
        raise fail(f"no webhook {hook_id} on app {client_id}") from None
    typer.echo(f"removed {hook_id}")
