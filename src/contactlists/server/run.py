"""``uvicorn.run`` for ``contactlists serve``, with the process's bounds fitted and installed."""

from __future__ import annotations

import resource
from typing import Any

import uvicorn

from contactlists.config import Settings
from contactlists.server.flood import guard_connection_logs
from contactlists.server.protocol import bounded_protocol

# File descriptors kept back from connections: the database pool, the job workers' files,
# log files, the normalising processes' pipes.
DESCRIPTOR_RESERVE = 200
# The cap when the descriptor limit is too low to leave the reserve.
MINIMUM_CONNECTIONS = 16


def raise_descriptor_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # not ours to raise: fit the cap to what there is
    return soft


def fitted_max_connections(configured: int, descriptors: int) -> int:
    """``configured`` if set (> 0); else what the descriptor limit leaves after the reserve."""
    if configured > 0:
        return configured
    return max(MINIMUM_CONNECTIONS, descriptors - DESCRIPTOR_RESERVE)


def run(application: Any, *, host: str, port: int, settings: Settings) -> None:
    """Serve ``application`` until SIGTERM or SIGINT, with the bounds of ``settings``."""
    max_connections = fitted_max_connections(settings.max_connections, raise_descriptor_limit())
    guard_connection_logs()
    uvicorn.run(
        application,
        host=host,
        port=port,
        http=bounded_protocol(settings.header_timeout_seconds, max_connections),
        timeout_keep_alive=settings.keepalive_timeout_seconds,
        # On SIGTERM uvicorn stops listening, lets the requests in flight finish (this long at
        # most), then the app stops its job workers after their batches in hand.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        log_level=settings.log_level.lower(),
        log_config=None,  # configured by the caller: uvicorn's lines in the same format as ours
        access_log=False,  # the app writes its own, with the route, the caller and the time
    )
