"""Engine and session factory: SQLite pragmas and PostgreSQL pool options live here only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
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
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # A connection the database dropped (restart, network cut) is found at checkout and
    # replaced, instead of failing the request that drew it.
    kwargs.setdefault("pool_pre_ping", True)
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
    return create_async_engine(url, **kwargs)


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
