"""Run the app under uvicorn with the connection bounds and the flood-proof log."""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from uvicorn.config import STARTUP_FAILURE

from contactlists.config import Settings
from contactlists.server import logflood
from contactlists.server.limits import ConnectionBounds, plan, raise_open_file_limit
from contactlists.server.protocol import ConnectionEvents, protocol_class

log = logging.getLogger("contactlists.server")

# uvicorn calls on_tick every 0.1 s: the log's summaries are written every this many ticks.
FLUSH_EVERY_TICKS = 10


def bounds_for(settings: Settings) -> ConnectionBounds:
    """Raise the open-file limit where allowed, then fit the bounds to it."""
    return plan(
        header_timeout=settings.header_timeout_seconds,
        keepalive_timeout=settings.keepalive_timeout_seconds,
        max_connections=settings.max_connections,
        open_file_limit=raise_open_file_limit(),
    )


class BoundedServer(uvicorn.Server):
    """uvicorn's server, flushing the log's suppressed-lines summaries once a second."""

    def __init__(
        self,
        config: uvicorn.Config,
        events: ConnectionEvents,
        flood: logflood.FloodFilter,
        parent_pid: int | None = None,
    ) -> None:
        super().__init__(config)
        self.events = events
        self.flood = flood
        self.parent_pid = parent_pid
        events.watch(self.server_state)

    async def on_tick(self, counter: int) -> bool:
        self.events.sample()
        if counter % FLUSH_EVERY_TICKS == 0:
            self.flood.flush()
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                # The supervising parent is gone (killed outright): drain and stop.
                log.warning("the parent process exited; stopping")
                self.should_exit = True
        return await super().on_tick(counter)


def run(
    application: Any,
    *,
    host: str,
    port: int,
    settings: Settings,
    bounds: ConnectionBounds,
    registry: CollectorRegistry | None = None,
    sock: socket.socket | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve ``application`` until SIGTERM or SIGINT, within ``bounds``.

    ``registry``: where the connection metrics go (the app's, so ``/metrics`` shows them).
    ``sock``: a listening socket to serve on instead of binding ``host:port`` (one of several
    processes, :mod:`.processes`), whose parent is ``parent_pid``.
    """
    flood = logflood.FloodFilter()
    remove_filter = logflood.install(flood)
    events = ConnectionEvents(bounds, registry)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        http=protocol_class(bounds, events),
        backlog=bounds.backlog,
        # On SIGTERM uvicorn stops listening, lets the requests in flight finish (this long at
        # most), then the app stops its job workers after their batches in hand.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        log_level=settings.log_level.lower(),
        log_config=None,  # configured by the caller: uvicorn's lines in the same format as ours
        access_log=False,  # the app writes its own, with the route, the caller and the time
    )
    log.info(
        "connection bounds: at most %d connections (open-file limit %d), request headers "
        "within %g s, idle connections closed after %g s",
        bounds.max_connections,
        bounds.open_file_limit,
        bounds.header_timeout,
        bounds.keepalive_timeout,
    )
    server = BoundedServer(config, events, flood, parent_pid)
    try:
        server.run(sockets=[sock] if sock is not None else None)
    except KeyboardInterrupt:  # as uvicorn.run: a second Ctrl-C during the shutdown
        pass
    finally:
        flood.flush(everything=True)
        remove_filter()
    if not server.started:  # as uvicorn.run: the port was taken, or the app failed to start
        sys.exit(STARTUP_FAILURE)
