"""How many times PostgreSQL has analysed a table: the tests of work that keeps statistics fresh."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from tests.support.durable import sessions

ANALYSES = text(
    "SELECT analyze_count FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = :table"
)


async def analyses(app: FastAPI, table: str) -> int:
    # Each transaction reads the statistics afresh (they are cached for one transaction).
    async with sessions(app)() as session, session.begin():
        return int(await session.scalar(ANALYSES, {"table": table}) or 0)
