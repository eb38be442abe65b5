"""Fill a list directly with SQL: one INSERT … SELECT over a generated series, on either database.

Every contact has the list's account and id, its position ``n`` (1 … rows) and a random id;
each bench gives the SQL of the other columns, as expressions of ``n``. The list's
total_record_count and last_position are then set to ``rows``, as the import would have left
them, and the table's statistics refreshed.

Parameters the expressions use: on PostgreSQL ``$1`` account, ``$2`` list, ``$3`` rows, then
``$4`` … for ``postgres_params``; on SQLite named ones, ``:now`` (the time of the fill, as the
service stores it) and those in ``sqlite_params``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import harness

FIXED = ("account_id", "list_id", "position", "id")
# One column's SQL: the same on both databases, or (PostgreSQL, SQLite).
Expression = str | tuple[str, str]


def fill(
    db: harness.Database,
    account_id: str,
    list_id: str,
    rows: int,
    columns: Mapping[str, Expression],
    postgres_params: Sequence[Any] = (),
    sqlite_params: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` contacts into the list, ``columns`` giving all but FIXED's columns."""
    names = ", ".join((*FIXED, *columns))
    if db.kind == "postgresql":
        values = ", ".join(_pick(expression, 0) for expression in columns.values())
        _fill_postgres(db, account_id, list_id, rows, names, values, postgres_params)
    else:
        values = ", ".join(_pick(expression, 1) for expression in columns.values())
        _fill_sqlite(db, account_id, list_id, rows, names, values, sqlite_params or {})


def _pick(expression: Expression, database: int) -> str:
    return expression if isinstance(expression, str) else expression[database]


def _fill_postgres(
    db: harness.Database,
    account_id: str,
    list_id: str,
    rows: int,
    names: str,
    values: str,
    params: Sequence[Any],
) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(db.psql_url())
        try:
            await connection.execute(
                f"""
                INSERT INTO contact ({names})
                SELECT $1, $2, n, 'cc-' || gen_random_uuid(), {values}
                FROM generate_series(1, $3::bigint) AS n
                """,
                account_id,
                list_id,
                rows,
                *params,
            )
            await connection.execute(
                "UPDATE contact_list SET total_record_count = $3, last_position = $3 "
                "WHERE account_id = $1 AND id = $2",
                account_id,
                list_id,
                rows,
            )
            await connection.execute("VACUUM ANALYZE contact")
        finally:
            await connection.close()

    asyncio.run(run())


def _fill_sqlite(
    db: harness.Database,
    account_id: str,
    list_id: str,
    rows: int,
    names: str,
    values: str,
    params: Mapping[str, Any],
) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    connection = sqlite3.connect(db.sqlite_path, isolation_level=None, timeout=60)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            f"""
            INSERT INTO contact ({names})
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :rows)
            SELECT :account_id, :list_id, n, 'cc-' || lower(hex(randomblob(16))), {values}
            FROM g
            """,
            {"rows": rows, "account_id": account_id, "list_id": list_id, "now": stamp, **params},
        )
        connection.execute(
            "UPDATE contact_list SET total_record_count = ?, last_position = ? "
            "WHERE account_id = ? AND id = ?",
            (rows, rows, account_id, list_id),
        )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()
