"""Engine and session factory: SQLite pragmas and PostgreSQL pool options live here only."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from contactlists.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_SECONDS = 5.0


class UnsupportedDatabaseError(ValueError):
    pass


# A pooled connection idle this long is pinged before it is lent (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0
IDLE_SINCE = "contactlists_idle_since"


def async_url(database_url: str) -> URL:
    """Map a user-facing URL (``sqlite:///…``, ``postgresql://…``) to its async driver."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise UnsupportedDatabaseError(
        f"unsupported database URL scheme {url.drivername!r}: use sqlite:/// or postgresql://"
    )


def _sqlite_configurer(busy_timeout_ms: int) -> Callable[[Any, ConnectionPoolEntry], None]:
    def configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        # First, so that even switching to WAL below waits for another writer.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        # WAL lets readers proceed while one writer commits; NORMAL sync is durable in WAL mode
        # across process crashes (only an OS crash can lose the last commits).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return configure


def create_engine(
    database_url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    statement_timeout: float | None = None,
    idle_in_transaction_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """Build the async engine for ``database_url``.

    ``connect_timeout`` bounds opening a PostgreSQL connection (asyncpg waits 60 s by
    default: a database behind a dead network would hold every request that long).
    ``statement_timeout`` bounds each statement: on PostgreSQL on the client side
    (asyncpg's ``command_timeout``), so it holds even when the network, not the server,
    is what hangs; on SQLite it is the busy timeout, how long a statement waits for
    another writer's lock. ``None`` (migrations, the operator commands): no bound on
    PostgreSQL, ``SQLITE_BUSY_TIMEOUT_MS`` on SQLite. ``idle_in_transaction_timeout`` is
    PostgreSQL's ``idle_in_transaction_session_timeout``: the server ends a session that
    holds a transaction open without a statement that long, whatever held it (a backstop;
    no request holds one while waiting on its client).

    On SQLite the driver opens a transaction only before the first write of a
    request, so a write transaction's first statement takes the write lock and
    waits on ``busy_timeout`` instead of failing: services write first, then read
    what they need inside the transaction.
    """
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        busy_ms = SQLITE_BUSY_TIMEOUT_MS if statement_timeout is None else statement_timeout * 1000
        # Pool sizes are PostgreSQL's: SQLite keeps its driver's default pool (an in-memory
        # database's pool takes no size at all).
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_configurer(round(busy_ms)))
        return engine
    # Twenty connections at most, all kept once opened: with an overflow (10 + 10, as before),
    # a burst opened connections and closed them again at check-in, and each opening (TCP,
    # the SSL probe, authentication, the session settings) cost more CPU than the read it
    # served (B4). The pool opens connections only as they are needed.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    server_settings = {
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
        # plan that ignores the values, and the duplicate lookup (`phone IN (…)` on one list)
        # then scans the whole list. Custom plans keep it an index lookup; our statements plan
        # in microseconds.
        "plan_cache_mode": "force_custom_plan",
    }
    if idle_in_transaction_timeout is not None:
        server_settings["idle_in_transaction_session_timeout"] = str(
            round(idle_in_transaction_timeout * 1000)
        )
    connect_args: dict[str, Any] = {"server_settings": server_settings, "timeout": connect_timeout}
    if statement_timeout is not None:
        connect_args["command_timeout"] = statement_timeout
    kwargs.setdefault("connect_args", connect_args)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout when it sat idle ``idle_seconds`` or more.

    A connection the database dropped (restart, network cut) is found at checkout and
    replaced, instead of failing the request that drew it. SQLAlchemy's ``pool_pre_ping``
    pings at every checkout, and on asyncpg a ping is three round trips (BEGIN, ``;``,
    ROLLBACK): half of a cached read's round trips, and a third of its CPU in ``send`` calls
    (B4). A connection back in the pool for less than a second was just used successfully,
    so it is lent without one. Should the database go away within that second, the request
    that draws such a connection gets a 503 and SQLAlchemy invalidates the whole pool, so the
    requests after it reconnect.
    """
    pool = engine.sync_engine.pool

    def checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.pop(IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # just opened, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool closes this connection and draws (or opens) another.
            raise DisconnectionError(f"ping failed: {type(exc).__name__}") from exc

    def connected(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info.pop(IDLE_SINCE, None)

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "connect", connected)


def engine_for(settings: Settings, **pool: Any) -> AsyncEngine:
    """The engine of a long-running process (``serve``, ``worker``), with its timeouts.

    ``pool`` sizes the connection pool (``pool_size``, ``max_overflow``; PostgreSQL only).
    """
    return create_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        idle_in_transaction_timeout=settings.db_idle_in_transaction_seconds,
        **pool,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
