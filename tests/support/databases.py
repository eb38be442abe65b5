"""Empty databases for tests: SQLite files, or fresh databases on a PostgreSQL server."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url


class DatabaseFactory:
    def __init__(self, directory: Path, postgres_server_url: str | None) -> None:
        self.directory = directory
        self.postgres_server_url = postgres_server_url
        self.created: list[str] = []

    def create(self, backend: str) -> str:
        """The URL of a new, empty database of ``backend``."""
        name = f"contactlists_test_{secrets.token_hex(6)}"
        if backend == "sqlite":
            return f"sqlite:///{self.directory / name}.db"
        if not self.postgres_server_url:
            pytest.skip("PostgreSQL not configured (set CONTACTLISTS_TEST_DATABASE_URL)")
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return (
            make_url(self.postgres_server_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        assert self.postgres_server_url
        url = make_url(self.postgres_server_url).set(drivername="postgresql")
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()
