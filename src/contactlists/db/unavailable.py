"""Which failures mean "the database is away, or too slow", as opposed to a bug.

One predicate for the whole service: the HTTP layer answers these with 503
``service_unavailable`` instead of 500, and the job workers wait for the database
instead of counting a failed attempt. Everything else — a wrong statement, a constraint
that should have been checked, a type error — stays a bug: 500, and a failed attempt.
"""

from __future__ import annotations

import errno
import socket
import sqlite3

from sqlalchemy import exc as sa_exc

# SQLite primary result codes (the low byte of an extended code): the file is locked by
# another writer beyond the busy timeout, cannot be opened, or cannot be read or written.
SQLITE_UNAVAILABLE = {
    5,  # SQLITE_BUSY
    6,  # SQLITE_LOCKED
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
}

# PostgreSQL SQLSTATEs of a server that cannot serve us now, not of a wrong request.
PG_UNAVAILABLE_CLASSES = (
    "08",  # connection exception
    "28",  # invalid authorization (credentials rotated or revoked)
    "53",  # insufficient resources: disk full, out of memory, too many connections
)
PG_UNAVAILABLE_STATES = {
    "57014",  # query_canceled: statement_timeout, or cancelled by the operator
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: starting up or in recovery
    "57P05",  # idle_session_timeout
    "3D000",  # invalid_catalog_name: the database itself is gone
}

# Network failures below the driver that are not ConnectionError subclasses.
NETWORK_ERRNOS = {
    errno.ENETDOWN,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
    errno.EHOSTUNREACH,
    errno.ETIMEDOUT,
}


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or one it was raised from) says the database cannot serve us now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__
    return False


def describe(error: BaseException) -> str:
    """One line for the log: the error's type and the first line of its message, if any."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):
        return True  # no pooled connection came free in time
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or _driver_unavailable(error.orig)
    # Raised by the driver as is: a connect that timed out or was refused, or a statement
    # that outlived the statement timeout (asyncpg's command_timeout).
    if isinstance(error, TimeoutError | ConnectionError | socket.gaierror):
        return True
    return isinstance(error, OSError) and error.errno in NETWORK_ERRNOS


def _driver_unavailable(orig: BaseException | None) -> bool:
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_UNAVAILABLE
    # asyncpg's errors reach us translated; the SQLSTATE is on the translation or its cause.
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str) and (
            state in PG_UNAVAILABLE_STATES or state.startswith(PG_UNAVAILABLE_CLASSES)
        ):
            return True
    return False
