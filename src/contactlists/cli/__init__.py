"""The ``contactlists`` command: operating the service (serve, worker, db, apps, token)."""

from __future__ import annotations

import typer

from contactlists.cli import apps, db, serve, token, worker

app = typer.Typer(
    name="contactlists",
    help="Contact lists for contact-center campaigns, wire-compatible with Kore.ai.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(db.app, name="db")
app.add_typer(apps.app, name="apps")
app.command("token")(token.token)


def main() -> None:
    app()
