"""A revocation made by one process is seen by every process of a running ``serve`` within a
second: the apps each process caches are checked against the change counter
(CONTACTLISTS_APP_CACHE_CHECK_SECONDS, 0.25 s)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from contactlists.apps import service as apps_service
from contactlists.db.engine import create_engine, create_sessionmaker
from tests.support.databases import DatabaseFactory
from tests.support.paths import Paths
from tests.support.servers import ServeProcess, running_serve

pytestmark = pytest.mark.serial

DEV_BOT = "st-00000000-0000-4000-8000-000000000000"
BOUND_SECONDS = 1.0
# Refusals in a row, each on a new connection (so spread over the processes), that end the wait.
REFUSED_IN_A_ROW = 30


def printed(output: str, label: str) -> str:
    found = re.search(rf"^\s*{re.escape(label)}:\s*(\S+)\s*$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def dev_app(server: ServeProcess) -> tuple[str, dict[str, str]]:
    lines = server.output.splitlines()
    token = lines[next(i for i, line in enumerate(lines) if "token valid" in line) + 1].strip()
    headers = {"auth": token, "iid": DEV_BOT, "accountId": printed(server.output, "accountId")}
    return printed(server.output, "clientId"), headers


def status_on_a_new_connection(url: str, headers: dict[str, str]) -> int:
    with httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        return http.post(url, headers=headers).status_code


async def revoke(database_url: str, client_id: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await apps_service.revoke(session, client_id)
    finally:
        await engine.dispose()


def refused_within_the_bound(server: ServeProcess, revoke_it: Callable[[str], float]) -> None:
    client_id, headers = dev_app(server)
    url = server.base_url + Paths("v1", DEV_BOT).get_all
    for _ in range(20):  # every process has the app in its cache
        assert status_on_a_new_connection(url, headers) == 200

    revoked_at = revoke_it(client_id)

    answers: list[tuple[float, int]] = []
    in_a_row = 0
    while in_a_row < REFUSED_IN_A_ROW:
        status = status_on_a_new_connection(url, headers)
        answers.append((time.monotonic() - revoked_at, status))
        in_a_row = in_a_row + 1 if status == 401 else 0
        assert answers[-1][0] < 10, answers
    accepted_after = [seconds for seconds, status in answers if status != 401]
    assert all(status in (200, 401) for _, status in answers), answers
    assert max(accepted_after, default=0.0) < BOUND_SECONDS, answers


def test_a_revocation_by_another_process_is_refused_by_every_serve_process(
    fresh_database: DatabaseFactory, backend: str
) -> None:
    database_url = fresh_database.create(backend)

    def revoke_here(client_id: str) -> float:
        # This test's own process: the server's processes learn of it only from the database.
        asyncio.run(revoke(database_url, client_id))
        return time.monotonic()

    with running_serve(["--database-url", database_url, "--processes", "2"]) as server:
        refused_within_the_bound(server, revoke_here)


def test_a_revocation_by_the_cli_is_refused_by_a_running_serve(
    fresh_database: DatabaseFactory, backend: str
) -> None:
    database_url = fresh_database.create(backend)

    def revoke_with_the_cli(client_id: str) -> float:
        command = [sys.executable, "-m", "contactlists", "apps", "revoke", client_id]
        done = subprocess.run(
            [*command, "--database-url", database_url], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        # Counted from the command's end: its commit came a little before.
        return time.monotonic()

    with running_serve(["--database-url", database_url]) as server:
        refused_within_the_bound(server, revoke_with_the_cli)
