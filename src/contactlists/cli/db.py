"""``contactlists db``: the schema."""

from __future__ import annotations

import typer

from contactlists.cli._common import DatabaseOption, needs_server

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command("upgrade")
@needs_server
def upgrade(database_url: DatabaseOption = None) -> None:
    """Apply every pending migration."""
    from contactlists.cli._database import settings_for
    from contactlists.db import migrate

    settings = settings_for(database_url)
    migrate.upgrade(settings.database_url)
    typer.echo(f"database is at revision {migrate.head_revision()}")
