"""``contactlists serve`` end to end, as real processes (CONTRACT §7).

An empty database gets migrated and a development app whose printed ``curl`` example works
as pasted; a database that already has apps gets no new one; with no ``--database-url`` the
service uses ``./contactlists.db``.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from contactlists.apps import service as apps_service
from contactlists.cli import app as cli
from contactlists.cli.serve import default_processes
from contactlists.config import get_settings
from contactlists.db import migrate
from contactlists.db.engine import create_engine, create_sessionmaker
from tests.support.databases import DatabaseFactory
from tests.support.servers import ServeProcess, parse_curl, running_serve

CLIENT_ID = re.compile(r"^cs-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SECRET = re.compile(r"^[A-Za-z0-9_-]{43,}$")
ACCOUNT_ID = re.compile(r"^[0-9a-f]{24}$")


def printed_value(output: str, label: str) -> str:
    """The value printed after ``label:`` in the development-app block."""
    found = re.search(rf"^\s*{re.escape(label)}:\s*(\S+)\s*$", output, re.MULTILINE)
    assert found, f"{label} not printed:\n{output}"
    return found.group(1)


def printed_token(output: str) -> str:
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if "token" in line.lower())
    return lines[index + 1].strip()


def app_count(database_url: str) -> int:
    async def count() -> int:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return len(await apps_service.list_apps(session))
        finally:
            await engine.dispose()

    return asyncio.run(count())


def check_operations_routes(server: ServeProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}

        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "schema": migrate.head_revision()}

        openapi = http.get("/openapi.json")
        assert openapi.status_code == 200
        document = openapi.json()
        assert document["openapi"].startswith("3.")
        assert any(path.endswith("/contactList/createContactList") for path in document["paths"])

        docs = http.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        assert "swagger-ui" in docs.text
        # Every asset the page loads is served locally: the docs work with no internet access.
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        assert assets
        for asset in assets:
            assert asset.startswith("/"), f"{asset} is not served by the service"
            assert http.get(asset).status_code == 200, asset


def test_serve_bootstraps_an_empty_database_once(
    fresh_database: DatabaseFactory, backend: str
) -> None:
    database_url = fresh_database.create(backend)

    with running_serve(["--database-url", database_url]) as server:
        output = server.output
        assert "development app" in output
        client_id = printed_value(output, "clientId")
        secret = printed_value(output, "clientSecret")
        account_id = printed_value(output, "accountId")
        assert CLIENT_ID.match(client_id)
        assert SECRET.match(secret)
        assert ACCOUNT_ID.match(account_id)

        token = printed_token(output)
        claims = jwt.decode(token, secret, algorithms=["HS256"])
        assert claims["appId"] == client_id

        curl = parse_curl(output)
        assert curl.url.startswith(server.base_url + "/")
        assert curl.headers["auth"] == token
        assert curl.body is not None
        with httpx.Client(timeout=10.0) as http:
            created = http.request(curl.method, curl.url, headers=curl.headers, content=curl.body)
            assert created.status_code == 200, created.text
            reply = created.json()
            assert reply["status"] == "success"
            list_id = reply["data"]["_id"]

            # The list really exists: it is listed and can be read back.
            base = curl.url.rsplit("/", 1)[0]
            listed = http.post(f"{base}/getAllListDetails", headers=curl.headers)
            assert listed.status_code == 200, listed.text
            assert [item["_id"] for item in listed.json()["data"]] == [list_id]
            fetched = http.get(f"{base}/{list_id}", headers=curl.headers)
            assert fetched.status_code == 200, fetched.text
            assert fetched.json()["data"]["name"] == reply["data"]["name"]

        check_operations_routes(server)

    with running_serve(["--database-url", database_url]) as restarted:
        assert "serving on" in restarted.output
        assert "development app" not in restarted.output
        assert "clientSecret" not in restarted.output
        assert secret not in restarted.output
        assert "curl" not in restarted.output

    assert app_count(database_url) == 1


def test_serve_defaults_to_contactlists_db_in_the_working_directory(tmp_path: Path) -> None:
    database_file = tmp_path / "contactlists.db"
    assert not database_file.exists()

    with running_serve(cwd=tmp_path) as server:
        assert database_file.is_file()
        assert "development app" in server.output
        with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 200, ready.text

    assert app_count(f"sqlite:///{database_file}") == 1


# --- serve --processes: its bounds and its default --------------------------------------------


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--processes", "0"], {}),
        (["--processes", "65"], {}),
        (["--processes", "two"], {}),
        ([], {"CONTACTLISTS_PROCESSES": "0"}),
        ([], {"CONTACTLISTS_PROCESSES": "1000000"}),
    ],
)
def test_serve_refuses_a_process_count_out_of_bounds(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'never.db'}"
    result = CliRunner().invoke(
        cli, ["serve", "--database-url", database_url, *args], env=env, catch_exceptions=False
    )
    assert result.exit_code == 2, result.output
    assert "processes" in result.output.lower()
    assert not (tmp_path / "never.db").exists()  # refused before anything was done


@pytest.mark.parametrize("value", ["-1", "1.5", "soon"])
def test_serve_refuses_an_app_cache_interval_out_of_bounds(value: str, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'never.db'}"
    get_settings.cache_clear()  # read from this environment, not from an earlier test's
    try:
        result = CliRunner().invoke(
            cli,
            ["serve", "--database-url", database_url],
            env={"CONTACTLISTS_APP_CACHE_CHECK_SECONDS": value},
            catch_exceptions=False,
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "CONTACTLISTS_" in result.output
    assert not (tmp_path / "never.db").exists()


def test_one_process_on_sqlite_one_per_core_on_postgresql() -> None:
    assert default_processes("sqlite:///./contactlists.db") == 1
    cores = len(os.sched_getaffinity(0))
    assert default_processes("postgresql://postgres@127.0.0.1:5432/db") == cores
