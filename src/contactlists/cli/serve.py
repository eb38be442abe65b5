"""``contactlists serve``: migrate, make sure someone can log in, then serve.

The server is imported inside the functions: this module loads without the server extra.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import tempfile
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from contactlists.cli._common import DatabaseOption, fail, needs_server
from contactlists.memory import limit_malloc_arenas
from contactlists.tokens import mint_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from contactlists.config import Settings
    from contactlists.models.apps import App
    from contactlists.server.limits import ConnectionBounds

DEV_BOT = "st-00000000-0000-4000-8000-000000000000"


async def _bootstrap_dev_app(session: AsyncSession) -> App | None:
    from contactlists.apps import service as apps

    if await apps.any_exists(session):
        return None
    return await apps.create(session, apps.NewApp(name="development"))


def _print_dev_app(app: App, base_url: str) -> None:
    token = mint_token(app.client_id, app.client_secret, sub="dev", expires_in=24 * 3600)
    url = f"{base_url}/agentassist/api/v1/public/{DEV_BOT}/campaign/contactList/createContactList"
    body = '{"name": "My first list", "description": "created from the quick start"}'
    typer.secho("The database had no apps, so a development app was created:", fg="green")
    typer.echo(f"  clientId:     {app.client_id}")
    typer.echo(f"  clientSecret: {app.client_secret}")
    typer.echo(f"  accountId:    {app.account_id}")
    typer.echo("  bots:         all (any st-… id)")
    typer.echo("A token valid for 24 hours (mint more with `contactlists token`):")
    typer.echo(f"  {token}")
    typer.echo("Try it:")
    typer.echo(
        f"  curl -s -X POST {shlex.quote(url)} \\\n"
        f"    -H 'Content-Type: application/json' \\\n"
        f"    -H {shlex.quote('auth: ' + token)} \\\n"
        f"    -H {shlex.quote('iid: ' + DEV_BOT)} \\\n"
        f"    -H {shlex.quote('accountId: ' + app.account_id)} \\\n"
        f"    -d {shlex.quote(body)}"
    )


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends ``serve`` with status 0 once uvicorn has drained.

    uvicorn handles SIGTERM itself while it serves, and once drained raises it again so that
    the process ends "the default way", killed by the signal (status -15 to the parent). A
    drained stop is a clean exit, for process managers and scripts alike.
    """
    raise SystemExit(0)


def default_processes(database_url: str) -> int:
    """One process on SQLite (one writer: more processes only queue on its lock), one per core
    on PostgreSQL."""
    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() != "postgresql":
        return 1
    return max(1, len(os.sched_getaffinity(0)))


def _serve_one(
    settings: Settings,
    bounds: ConnectionBounds,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    parent_pid: int | None = None,
) -> None:
    """Build the app and serve it until SIGTERM or SIGINT (in this process)."""
    from contactlists.app import create_app
    from contactlists.server import runner

    application = create_app(settings)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    runner.run(
        application,
        host=host,
        port=port,
        settings=settings,
        bounds=bounds,
        registry=application.state.metrics.registry,  # so /metrics counts refused connections
        sock=sock,
        parent_pid=parent_pid,
    )


def _serve_many(
    settings: Settings, bounds: ConnectionBounds, host: str, port: int, count: int
) -> int:
    """``count`` API processes on one port (server/processes.py); the parent's exit status."""
    from contactlists.observability.metrics import enable_multiprocess, forget_process
    from contactlists.server import processes

    try:
        sockets = processes.bind_sockets(host, port, count, bounds.backlog)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # The processes' metrics meet here; /metrics in any of them adds them up.
    metrics_dir = tempfile.mkdtemp(prefix="contactlists-metrics-")
    try:
        enable_multiprocess(metrics_dir)
        parent_pid = os.getpid()
        # The job workers run in the first process only: the configured count, not N times it.
        quiet = settings.model_copy(update={"workers": 0})

        def serve_one(sock: socket.socket, index: int) -> None:
            chosen = settings if index == 0 else quiet
            _serve_one(chosen, bounds, host, port, sock=sock, parent_pid=parent_pid)

        return processes.run_children(sockets, serve_one, on_child_exit=forget_process)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


@needs_server
def serve(
    host: Annotated[
        str, typer.Option(envvar="CONTACTLISTS_HOST", help="Address to bind.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="CONTACTLISTS_PORT", help="Port to bind.")] = 8000,
    database_url: DatabaseOption = None,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            envvar="CONTACTLISTS_HEADER_TIMEOUT_SECONDS",
            min=0.001,
            max=3600,
            show_default=False,
            help="Seconds a connection has to send complete request headers (counted from its "
            "opening, or from the first byte of its next request); then it is closed. "
            "[default: 10]",
        ),
    ] = None,
    keepalive_timeout: Annotated[
        float | None,
        typer.Option(
            envvar="CONTACTLISTS_KEEPALIVE_TIMEOUT_SECONDS",
            min=0.001,
            max=3600,
            show_default=False,
            help="Seconds an idle connection is kept open after its last response. [default: 5]",
        ),
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option(
            envvar="CONTACTLISTS_MAX_CONNECTIONS",
            min=0,
            show_default=False,
            help="Connections open at once; past it a new one gets a 503 and is closed at "
            "once. 0: the open-file limit (raised to the hard limit when allowed) less room "
            "for the database and files. [default: 0]",
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            envvar="CONTACTLISTS_PROCESSES",
            min=1,
            max=64,
            show_default=False,
            help="API processes answering on the port, each on a core; the job workers run in "
            "one of them. [default: 1 on SQLite, the number of cores on PostgreSQL]",
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the API; on an empty database, create a development app.

    Connections are bounded (per process; see docs/security.md).
    """
    limit_malloc_arenas()  # before uvicorn, aiosqlite or the job threads start
    from sqlalchemy.engine import make_url

    from contactlists.cli._database import in_transaction, settings_for
    from contactlists.observability import logs
    from contactlists.server import runner

    settings = settings_for(database_url)
    given = {
        "header_timeout_seconds": header_timeout,
        "keepalive_timeout_seconds": keepalive_timeout,
        "max_connections": max_connections,
        "processes": processes,
    }
    settings = settings.model_copy(
        update={name: value for name, value in given.items() if value is not None}
    )
    logs.configure(settings.log_level, settings.log_format)
    # Before the database opens any file: the limit is raised first, then the cap fitted to it.
    bounds = runner.bounds_for(settings)
    created = in_transaction(settings.database_url, _bootstrap_dev_app)
    if created is not None:
        _print_dev_app(created, f"http://{host}:{port}")
    # Never the password of a postgresql:// URL: this line ends up in logs.
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    count = settings.processes or default_processes(settings.database_url)
    several = f", {count} processes" if count > 1 else ""
    typer.echo(f"serving on http://{host}:{port} (docs at /docs), database {shown}{several}")
    if count == 1:
        _serve_one(settings, bounds, host, port)
        return
    # Migrations and the development app are done above, once, before the processes fork.
    raise typer.Exit(_serve_many(settings, bounds, host, port, count))
