"""``contactlists worker``: job workers only, no HTTP, for deployments with several processes.

The schema is never touched here: it must already be at head (``contactlists db upgrade``
or a ``serve`` made it so). SIGTERM or SIGINT stops the workers after the batches in hand;
their jobs go back to the queue for any other worker. A second signal stops at once: the
batches in hand are rolled back, and their jobs are taken over once stale.

The server is imported inside the functions: this module loads without the server extra.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from contactlists.cli._common import DatabaseOption, fail, needs_server
from contactlists.memory import limit_malloc_arenas

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from contactlists.config import Settings
    from contactlists.observability.metrics import Metrics

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SchemaNotCurrent(Exception):
    pass


@needs_server
def worker(
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            min=1,
            help="Workers (concurrent jobs) in this process. "
            "Default: CONTACTLISTS_WORKERS, or 1 when that is 0.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            envvar="CONTACTLISTS_WORKER_METRICS_PORT",
            min=1,
            max=65535,
            help="Serve this process's job metrics (Prometheus text) on this port. "
            "Default: not served.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host",
            envvar="CONTACTLISTS_WORKER_METRICS_HOST",
            help="Address --metrics-port listens on.",
        ),
    ] = "127.0.0.1",
) -> None:
    """Run job workers only (no HTTP) until SIGTERM or Ctrl-C; the schema must be current."""
    limit_malloc_arenas()  # before the database driver or the job threads start
    from prometheus_client import start_http_server
    from sqlalchemy.exc import DBAPIError

    from contactlists.cli._database import settings_for
    from contactlists.observability import logs
    from contactlists.observability.metrics import Metrics

    settings = settings_for(database_url)
    workers = count if count is not None else max(settings.workers, 1)
    _require_sqlite_file(settings.database_url)
    logs.configure(settings.log_level, settings.log_format)
    metrics = Metrics()
    exporter = None
    if metrics_port is not None:
        try:
            # A thread of its own: scrapes are answered even while a batch holds the loop.
            exporter, _thread = start_http_server(
                metrics_port, addr=metrics_host, registry=metrics.registry
            )
        except OSError as exc:
            raise fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc}") from None
    try:
        asyncio.run(_run(settings, workers, metrics))
    except SchemaNotCurrent as exc:
        raise fail(str(exc)) from None
    except (OSError, DBAPIError) as exc:  # refused, unknown host or database, bad password…
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"cannot use the database: {reason}") from None
    except asyncio.CancelledError:
        raise fail("stopped at once; the batches in hand were rolled back") from None
    finally:
        if exporter is not None:
            exporter.shutdown()
            exporter.server_close()


async def _run(settings: Settings, count: int, metrics: Metrics) -> None:
    from sqlalchemy.engine import make_url

    from contactlists.db.engine import create_sessionmaker, engine_for
    from contactlists.jobs.worker import WorkerPool
    from contactlists.tasks import HANDLERS

    engine = engine_for(settings)
    try:
        await _check_schema(engine)
        pool = WorkerPool(
            create_sessionmaker(engine), settings, HANDLERS, count=count, metrics=metrics
        )
        signals = StopSignals()
        pool.start()
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        typer.echo(f"running {count} job worker{'s' if count != 1 else ''}, database {shown}")
        await signals.requested.wait()
        typer.echo("stopping: finishing the batches in hand (signal again to stop at once)")
        await pool.stop()
        signals.stopped = True
        typer.echo("stopped")
    finally:
        await engine.dispose()


def _require_sqlite_file(database_url: str) -> None:
    """Connecting would create a missing SQLite file: refuse instead, it cannot be migrated."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if not Path(url.database).is_file():
        raise fail(f"no database at {url.database}: run `contactlists db upgrade` first")


async def _check_schema(engine: AsyncEngine) -> None:
    from contactlists.db import migrate

    current = await migrate.current_revision(engine)
    head = migrate.head_revision()
    if current is None:
        raise SchemaNotCurrent(
            f"the database has no schema (expected revision {head}): "
            "run `contactlists db upgrade` first"
        )
    if current != head:
        raise SchemaNotCurrent(
            f"the database schema is at revision {current}, expected {head}: "
            "run `contactlists db upgrade` first"
        )


class StopSignals:
    """The first SIGTERM/SIGINT sets ``requested``; the next one, while the workers are still
    finishing their batches, cancels the run outright. Once they stopped, signals are ignored."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.stopped = False
        self._main = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._received)

    def _received(self) -> None:
        if self.requested.is_set() and not self.stopped and self._main is not None:
            self._main.cancel()
        self.requested.set()
