"""Where a deleted list's data could still be: every row of every table, every file on disk.

The scan reads each table of ``Base.metadata`` whole (the tests that use it have a database of
their own) and every file under the data directory, and reports each place that holds one of
the strings looked for. It knows no table: a table added later is scanned too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.models import Base


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


async def rows_holding(
    sessions: async_sessionmaker[AsyncSession], needles: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value in the database that contains a needle."""
    wanted = [needle for needle in needles if needle]
    found: list[tuple[str, str, str]] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    text = _text(value)
                    found += [(table.name, str(column), n) for n in wanted if n in text]
    return found


def files_holding(directory: Path, needles: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, needle) for every file under ``directory`` that contains a needle."""
    wanted = [needle.encode() for needle in needles if needle]
    if not directory.exists():
        return []
    found: list[tuple[Path, str]] = []
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            found += [(path, n.decode()) for n in wanted if n in content]
    return found


def files_under(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    return sorted(path for path in directory.rglob("*") if path.is_file())
