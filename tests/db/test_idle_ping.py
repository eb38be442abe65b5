"""PostgreSQL's pool pings a connection before lending it only when it sat idle a while
(db/engine.py): a just-used connection costs no round trips, a dead idle one is replaced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from contactlists.db import engine as engines

pytestmark = pytest.mark.anyio


@pytest.fixture
def postgres_url(database_url: str, backend: str) -> str:
    if backend != "postgresql":
        pytest.skip("SQLite's connections are files, not pinged")
    return database_url


async def test_only_idle_connections_are_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engines.create_engine(postgres_url, pool_size=1, max_overflow=0)
    pings: list[Any] = []
    original = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        for _ in range(3):  # opened, then lent again at once: no ping
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
        assert pings == []

        await asyncio.sleep(engines.PING_AFTER_IDLE_SECONDS + 0.1)
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
        assert len(pings) == 1
    finally:
        await engine.dispose()


async def test_an_idle_connection_the_server_ended_is_replaced_unseen(postgres_url: str) -> None:
    engine = engines.create_engine(postgres_url, pool_size=1, max_overflow=0)
    admin = engines.create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            first_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with admin.connect() as conn:
            ended = await conn.scalar(text(f"SELECT pg_terminate_backend({int(first_pid)})"))
            assert ended is True
        await asyncio.sleep(engines.PING_AFTER_IDLE_SECONDS + 0.1)

        async with engine.connect() as conn:  # the ping finds it dead: another is opened
            second_pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert second_pid != first_pid
    finally:
        await engine.dispose()
        await admin.dispose()
