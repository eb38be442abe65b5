"""How many connections ``serve`` may hold: fitted to the open-file limit, with room to spare.

Every open connection is a file descriptor. When they run out, nothing else opens either (a
database connection, an uploaded file, the next ``accept``), and Python's accept loop then
logs an error per pending connection and per retry. So the connection cap is the open-file
limit minus what the rest of the process needs (:data:`RESERVED_FILE_DESCRIPTORS`) minus the
connections one turn of the accept loop can take before any of them is refused (the listen
backlog: asyncio accepts up to that many at once), and by default at most
:data:`DEFAULT_MAX_CONNECTIONS`, so a very high limit does not let idle connections take the
memory instead.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger("contactlists.server")

# What the process needs besides its connections: the SQLite connections (the file, its WAL
# and shared-memory files each: 3 × up to 15) or the PostgreSQL pool (20 sockets), the import
# workers' files and the normalising processes' pipes, uploads spooled to disk, the log, the
# event loop and the interpreter's own files, with a margin.
RESERVED_FILE_DESCRIPTORS = 256
# uvicorn's default backlog; smaller when the open-file limit is small (see listen_backlog).
MAX_BACKLOG = 2048
MIN_BACKLOG = 64
# Where the soft limit is raised to when the hard limit is unlimited (the kernel refuses
# "unlimited" for open files); also tried when raising to the hard limit fails.
UNLIMITED_TARGET = 1024 * 1024
FALLBACK_TARGET = 65536
# Connections never go below this, whatever the limit says (a tiny limit still serves).
MIN_CONNECTIONS = 16
# The default cap never goes above this, however high the open-file limit (containers often
# allow a million): an idle connection costs the process about 5 KB, so 10,000 hold ~50 MB,
# far more connections than one process of this service needs. CONTACTLISTS_MAX_CONNECTIONS
# sets a higher cap, up to what the open-file limit allows.
DEFAULT_MAX_CONNECTIONS = 10_000


@dataclass(frozen=True)
class ConnectionBounds:
    """What ``serve`` enforces per connection and in all."""

    header_timeout: float
    keepalive_timeout: float
    max_connections: int
    backlog: int
    open_file_limit: int


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit toward the hard one where allowed; the soft limit after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return UNLIMITED_TARGET
    wanted = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    for target in (wanted, min(wanted, FALLBACK_TARGET)):
        if target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # above the kernel's nr_open, or macOS's OPEN_MAX
            continue
        break
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def listen_backlog(open_file_limit: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go."""
    return max(MIN_BACKLOG, min(MAX_BACKLOG, open_file_limit // 8))


def fitted_max_connections(open_file_limit: int, backlog: int) -> int:
    """The most connections that leave room for the reserve and one accept burst."""
    spare = open_file_limit - RESERVED_FILE_DESCRIPTORS - backlog
    return max(MIN_CONNECTIONS, spare)


def plan(
    *,
    header_timeout: float,
    keepalive_timeout: float,
    max_connections: int,
    open_file_limit: int,
) -> ConnectionBounds:
    """The bounds for these settings.

    ``max_connections`` 0: fitted to the open-file limit, at most
    :data:`DEFAULT_MAX_CONNECTIONS`.

    A cap above what the open-file limit allows is lowered to it, with a warning: above it the
    process would run out of file descriptors before the cap ever refused a connection.
    """
    backlog = listen_backlog(open_file_limit)
    fitted = fitted_max_connections(open_file_limit, backlog)
    chosen = min(fitted, DEFAULT_MAX_CONNECTIONS)
    if max_connections:
        chosen = min(max_connections, fitted)
        if max_connections > fitted:
            log.warning(
                "CONTACTLISTS_MAX_CONNECTIONS=%d is more than the open-file limit (%d) allows; "
                "using %d",
                max_connections,
                open_file_limit,
                fitted,
            )
    return ConnectionBounds(
        header_timeout=header_timeout,
        keepalive_timeout=keepalive_timeout,
        max_connections=chosen,
        backlog=backlog,
        open_file_limit=open_file_limit,
    )
