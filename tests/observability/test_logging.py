"""Log lines: one JSON object per line carrying the request id and, once the token is verified,
the app and the account; an access line per request; never a token or a secret."""

from __future__ import annotations

import io
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.auth import ReadCaller
from contactlists.observability import logs
from tests.support.contacts import create_list
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.servers import running_serve
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

Lines = Callable[[], list[dict[str, Any]]]
LIST_ROUTE = "/campaign/api/v2/public/{bot}/campaign/contactList/{list_id}"


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """What the root logger writes meanwhile, through the JSON formatter; each line parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def parsed() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    try:
        yield parsed
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def access_line(lines: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    found = [
        line
        for line in lines
        if line["logger"] == "contactlists.access" and line.get("request_id") == request_id
    ]
    assert len(found) == 1, lines
    return found[0]


async def test_an_authenticated_request_is_logged_with_its_app_and_account(
    client: AsyncClient, tenant: Tenant, unique_name: str, json_lines: Lines
) -> None:
    created = await create_list(client, tenant, unique_name)
    request_id = f"log-{uuid.uuid4().hex}"
    headers = tenant.headers() | {"X-Request-Id": request_id}

    response = await client.get(Paths("v2", tenant.bot).list(created["_id"]), headers=headers)

    assert response.status_code == 200
    lines = json_lines()
    line = access_line(lines, request_id)
    assert line["level"] == "INFO"
    assert line["timestamp"].endswith("Z")
    assert (line["app"], line["account"]) == (tenant.client_id, tenant.account_id)
    assert (line["method"], line["route"], line["status"]) == ("GET", LIST_ROUTE, 200)
    assert line["path"] == Paths("v2", tenant.bot).list(created["_id"])
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0
    assert f"GET {line['path']} 200" in line["message"]
    everything = json.dumps(lines)
    assert headers["auth"] not in everything
    assert tenant.client_secret not in everything


async def test_lines_written_while_a_request_runs_carry_its_context(
    app: FastAPI, client: AsyncClient, tenant: Tenant, json_lines: Lines
) -> None:
    chatty = logging.getLogger("contactlists.test")

    async def talk(caller: ReadCaller) -> dict[str, str]:
        chatty.info("working for %s", caller.bot_id)
        return {"status": "ok"}

    app.add_api_route("/talk/{bot}", talk)
    request_id = f"ctx-{uuid.uuid4().hex}"

    response = await client.get(
        f"/talk/{tenant.bot}", headers=tenant.headers() | {"X-Request-Id": request_id}
    )

    assert response.status_code == 200, response.text
    said = [line for line in json_lines() if line["logger"] == "contactlists.test"]
    assert len(said) == 1
    assert said[0]["message"] == f"working for {tenant.bot}"
    assert said[0]["request_id"] == request_id
    assert (said[0]["app"], said[0]["account"]) == (tenant.client_id, tenant.account_id)


async def test_a_refused_token_is_logged_without_the_caller_and_without_the_token(
    client: AsyncClient, tenant: Tenant, json_lines: Lines
) -> None:
    forged = tenant.token(sub="u-x")[:-4] + "AAAA"  # a bad signature
    response = await client.get(
        Paths("v2", tenant.bot).list(f"cl-{uuid.uuid4()}"),
        headers={"auth": forged, "X-Request-Id": "refused-1"},
    )

    assert_failure(response, 401, "invalid_credentials", code=4002)
    lines = json_lines()
    line = access_line(lines, "refused-1")
    assert line["status"] == 401
    assert "app" not in line
    assert "account" not in line
    assert forged not in json.dumps(lines)


async def test_an_unexpected_error_is_one_json_line_with_its_traceback(
    app: FastAPI, client: AsyncClient, json_lines: Lines
) -> None:
    async def boom() -> None:
        raise RuntimeError("broken on purpose")

    app.add_api_route("/boom", boom)

    response = await client.get("/boom", headers={"X-Request-Id": "boom-1"})

    assert_failure(response, 500, "internal_error")
    lines = json_lines()
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1, lines
    assert errors[0]["request_id"] == "boom-1"
    assert "RuntimeError: broken on purpose" in errors[0]["exception"]
    assert access_line(lines, "boom-1")["status"] == 500


async def test_a_job_s_lines_name_the_job_and_its_account() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("contactlists.test.jobs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with logs.bound(logs.LogContext(account="a" * 24, job="job-1")):
            logger.warning("slow batch")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["job"], inside["account"], inside["message"]) == (
        "job-1",
        "a" * 24,
        "slow batch",
    )
    assert "job" not in outside
    assert "account" not in outside


def test_text_lines_end_with_the_context() -> None:
    record = logging.LogRecord(
        "contactlists.access", logging.INFO, __file__, 1, "GET / 200", (), None
    )
    with logs.bound(logs.LogContext(request_id="r-1", app="cs-1", account="b" * 24)):
        line = logs.TextFormatter().format(record)
    assert line.endswith(
        f"INFO contactlists.access: GET / 200 [request_id=r-1 app=cs-1 account={'b' * 24}]"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert logs.resolve_format("auto", Terminal()) == "text"
    assert logs.resolve_format("auto", io.StringIO()) == "json"
    assert logs.resolve_format("json", Terminal()) == "json"
    assert logs.resolve_format("text", io.StringIO()) == "text"


def test_configure_sends_every_logger_through_one_formatter() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_saved = (list(uvicorn_error.handlers), uvicorn_error.propagate)
    stream = io.StringIO()
    try:
        logs.configure("info", "json", stream)
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        logging.getLogger("alembic.runtime.migration").info("Running upgrade")  # too chatty
        logging.getLogger("contactlists.jobs").debug("below the level")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        uvicorn_error.handlers[:] = uvicorn_saved[0]
        uvicorn_error.propagate = uvicorn_saved[1]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Application startup complete.")
    ]


def test_serve_writes_json_lines_with_an_access_line_per_request(tmp_path: Path) -> None:
    """The real process: uvicorn's lines and ours, one JSON object each, no uvicorn text."""
    bogus_token = f"eyJ.not-a-token.{secrets.token_hex(8)}"
    database_url = f"sqlite:///{tmp_path / 'logs.db'}"
    settings = {"CONTACTLISTS_LOG_FORMAT": "json", "CONTACTLISTS_WORKERS": "0"}
    with (
        running_serve(["--database-url", database_url], settings=settings) as server,
        httpx.Client(base_url=server.base_url, timeout=10.0) as http,
    ):
        assert http.get("/healthz", headers={"X-Request-Id": "live-1"}).status_code == 200
        refused = http.get(
            "/campaign/api/v2/public/st-1/campaign/contactList/cl-1",
            headers={"auth": bogus_token, "X-Request-Id": "live-2"},
        )
        assert refused.status_code == 401
    logged = [json.loads(line) for line in server.lines if line.startswith("{")]
    assert not [line for line in server.lines if line.startswith(("INFO:", "WARNING:"))]
    assert any(line["logger"].startswith("uvicorn") for line in logged), server.output
    assert access_line(logged, "live-1")["route"] == "/healthz"
    assert access_line(logged, "live-2")["status"] == 401
    assert bogus_token not in server.output


def test_statements_and_their_values_stay_out_of_a_debug_log() -> None:
    """aiosqlite logs each statement with its bound values at DEBUG: contacts, secrets."""
    root = logging.getLogger()
    quiet = logging.getLogger("aiosqlite")
    saved = (list(root.handlers), root.level, quiet.level)
    stream = io.StringIO()
    try:
        logs.configure("debug", "json", stream)
        quiet.debug("executing functools.partial(<sqlite3.Connection>, 'INSERT …', ('secret',))")
        logging.getLogger("contactlists.jobs").debug("a debug line of ours")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        quiet.setLevel(saved[2])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["contactlists.jobs"]
