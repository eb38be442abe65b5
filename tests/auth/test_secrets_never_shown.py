"""Tokens and secrets never appear in the service's log, in its answers, or in what clients print.

What must never show: a JWT (valid or not) or its signature part, an app's client secret, the
value of the ``auth`` or ``Authorization`` header, a database password. Checked in the log
records of the in-process app (every attribute of every record, tracebacks included), in the
log file of a real ``serve`` process at DEBUG, in every answer (body and headers), in the SDK's
exceptions and in the CLI's output. The one intended exception: ``serve`` on an empty database
prints the development app's credentials once (CONTRACT §7), and ``apps create`` and ``token``
print what they were asked for.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from contactlists.auth import WriteCaller
from contactlists.cli import app as cli_app
from contactlists.cli._connection import ConnectionSettings
from contactlists.client import Client, InvalidCredentialsError
from tests.support.auth_cases import claims, sign, unsigned
from tests.support.cli import Cli
from tests.support.databases import DatabaseFactory
from tests.support.durable import OwnDatabase, service_settings
from tests.support.live import LiveTenant
from tests.support.paths import Paths
from tests.support.processes import Processes
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

# Any JWT: three base64url parts, the first a JSON object ("{" encodes as "ey").
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
BOOM_PATH = "/agentassist/api/v1/public/{bot}/security-test/boom"
LOGGED_ERROR = "the database exploded"


class Secrets:
    """The values a test handed out that must never be shown again."""

    def __init__(self, *values: str) -> None:
        self.values: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        assert len(value) >= 16, "too short to search for without false alarms"
        self.values.add(value)

    def add_token(self, token: str) -> str:
        self.add(token)
        signature = token.rsplit(".", 1)[-1]
        if len(signature) >= 16:
            self.add(signature)
        return token

    def shown_in(self, text: str) -> list[str]:
        found = [value[:12] + "…" for value in self.values if value in text]
        found += [f"a JWT: {match[:24]}…" for match in JWT_SHAPE.findall(text)]
        return found

    def assert_not_in(self, text: str, where: str) -> None:
        shown = self.shown_in(text)
        assert not shown, f"{where} shows {shown}:\n{text[:3000]}"


def record_text(record: logging.LogRecord) -> str:
    """Everything a log record carries: its message, arguments, extras and traceback."""
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def answer_text(response: Response) -> str:
    headers = "\n".join(f"{key}: {value}" for key, value in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.text}"


def exception_text(exc: BaseException) -> str:
    return "\n".join(
        [str(exc), repr(exc), repr(exc.args), *traceback.format_exception(exc)]
        + [repr(value) for key, value in vars(exc).items() if key != "response"]
    )


def _boom_route(app: FastAPI) -> None:
    """A route that fails unexpectedly after the caller was verified (a bug, a lost disk…)."""

    async def boom(caller: WriteCaller) -> None:
        raise RuntimeError(f"{LOGGED_ERROR} while serving {caller.client_id}")

    app.add_api_route(BOOM_PATH, boom, methods=["POST"])


def hostile_tokens(tenant: Tenant, other: Tenant, secret_list: Secrets) -> dict[str, str]:
    """Tokens the service must refuse with 401, by what is wrong with them."""
    now = int(time.time())
    return {
        name: secret_list.add_token(token)
        for name, token in {
            "wrong signature": sign(claims(tenant), other.client_secret),
            "expired": sign(claims(tenant, iat=now - 7200, exp=now - 3600), tenant.client_secret),
            "alg none": unsigned(claims(tenant)),
            "malformed": "not.a.jwt-" + secrets.token_urlsafe(24),
            "garbage": secrets.token_urlsafe(40),
            "unknown app": sign(claims(tenant, appId="cs-" + "0" * 36), tenant.client_secret),
            "tampered payload": _tampered(tenant.token(sub="u-tester")),
        }.items()
    }


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload[:-2]}AA.{signature}"


# ---------------------------------------------------------------- the in-process service


async def test_no_token_or_secret_in_the_log_or_the_answers(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    caplog: pytest.LogCaptureFixture,
    unique_name: str,
) -> None:
    other = await tenants.create()  # created before logs are captured: its INSERT is no request
    _boom_route(app)
    paths = Paths("v1", tenant.bot)
    shown = Secrets(tenant.client_secret, other.client_secret)
    valid = shown.add_token(tenant.token(sub="u-tester"))
    bearer = shown.add_token(tenant.token(sub="u-bearer"))
    hostile = hostile_tokens(tenant, other, shown)
    base = {"iid": tenant.bot, "accountId": tenant.account_id}
    answers: list[tuple[str, Response, int]] = []

    with caplog.at_level(logging.DEBUG):
        created = await client.post(
            paths.create, json={"name": unique_name}, headers={**base, "auth": valid}
        )
        answers.append(("create", created, 200))
        list_id = created.json()["data"]["_id"]
        for family in ("v1", "v2"):
            answers.append(
                (
                    f"bearer get {family}",
                    await client.get(
                        Paths(family, tenant.bot).list(list_id),
                        headers={**base, "Authorization": f"Bearer {bearer}"},
                    ),
                    200,
                )
            )
        for name, token in hostile.items():
            for header in ({"auth": token}, {"Authorization": f"Bearer {token}"}):
                response = await client.get(paths.list(list_id), headers={**base, **header})
                answers.append((f"{name} {next(iter(header))}", response, 401))
        # Valid credentials with every kind of refusal after them.
        answers += [
            (
                "foreign bot",
                await client.get(Paths("v1", other.bot).list(list_id), headers={"auth": valid}),
                403,
            ),
            ("unknown list", await client.get(paths.list("cl-nope"), headers={"auth": valid}), 404),
            (
                "bad body",
                await client.post(paths.create, content=b"{", headers={**base, "auth": valid}),
                400,
            ),
            (
                "a failure inside the route",
                await client.post(
                    BOOM_PATH.format(bot=tenant.bot), headers={**base, "auth": valid}
                ),
                500,
            ),
        ]

    for what, response, status in answers:
        assert response.status_code == status, (what, response.text)
        shown.assert_not_in(answer_text(response), f"the answer to {what}")
    # The failure is logged with its traceback (so the capture saw it), and nothing secret is.
    failures = [r for r in caplog.records if r.exc_info and LOGGED_ERROR in str(r.exc_info[1])]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    assert caplog.records, "nothing was logged at DEBUG"
    for record in caplog.records:
        shown.assert_not_in(record_text(record), f"the log record {record.name}")


# ---------------------------------------------------------------- a real serve process


async def test_a_serve_process_at_debug_logs_no_token_or_secret(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    tenant = await own.tenants.create()  # the database has an app: serve prints no credentials
    other = await own.tenants.create()
    server = started.serve(
        own.url, service_settings(tmp_path, log_level="DEBUG", log_format="json")
    )
    shown = Secrets(tenant.client_secret, other.client_secret)
    valid = shown.add_token(tenant.token(sub="u-tester"))
    hostile = hostile_tokens(tenant, other, shown)
    paths = Paths("v1", tenant.bot)
    request_ids: list[str] = []

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
        created = await http.post(
            paths.create, json={"name": "Secrets"}, headers={"auth": valid, "iid": tenant.bot}
        )
        assert created.status_code == 200, created.text
        request_ids.append(created.headers["x-request-id"])
        for name, token in hostile.items():
            for header in ({"auth": token}, {"Authorization": f"Bearer {token}"}):
                response = await http.get(paths.get_all, headers=header)
                assert response.status_code == 401, (name, response.text)
                shown.assert_not_in(answer_text(response), f"the answer to {name}")
                request_ids.append(response.headers["x-request-id"])

    # The SDK with a wrong secret: its exception shows neither the secret nor the token it sent.
    wrong_secret = secrets.token_urlsafe(32)
    shown.add(wrong_secret)
    sdk = Client(server.base_url, bot=tenant.bot, client_id=tenant.client_id,
                 client_secret=wrong_secret, max_retries=0)  # fmt: skip
    with sdk, pytest.raises(InvalidCredentialsError) as raised:
        sdk.lists.list()
    assert raised.value.response is not None
    shown.add_token(raised.value.response.request.headers["auth"])
    shown.assert_not_in(exception_text(raised.value), "the SDK's exception")
    assert raised.value.request_id
    request_ids.append(raised.value.request_id)

    # The CLI with a wrong secret: one error line, no secret, no token.
    as_user = LiveTenant(server.base_url, tenant.client_id, wrong_secret, tenant.account_id,
                         tenant.bot)  # fmt: skip
    result = Cli(as_user, tmp_path / "config").fails(1, "lists", "ls")
    assert "Invalid SDK credentials" in result.stderr
    shown.assert_not_in(result.stdout + result.stderr, "the CLI's output")

    server.stop()
    log = server.output
    shown.assert_not_in(log, "the serve process's log")
    # The log did see the requests (so the check above looked at something).
    missing = [request_id for request_id in request_ids if request_id not in log]
    assert not missing, f"requests {missing} are not in the log:\n{log[-3000:]}"


def test_serve_never_prints_the_database_password(
    fresh_database: DatabaseFactory, started: Processes, tmp_path: Path
) -> None:
    url = make_url(fresh_database.create("postgresql"))
    password = "pw-" + secrets.token_urlsafe(18)
    # The test server trusts local connections: any password connects, and must not be shown.
    with_password = url.set(password=password).render_as_string(hide_password=False)
    server = started.serve(with_password, service_settings(tmp_path, log_level="DEBUG"))
    server.stop()
    output = server.output
    assert password not in output, output
    assert "***" in output, output
    # On an empty database the development app's credentials are printed, once: intended.
    assert "clientSecret:" in output


# ---------------------------------------------------------------- what clients keep


def test_the_cli_connection_settings_do_not_show_their_secrets() -> None:
    secret = secrets.token_urlsafe(32)
    token = "eyJ" + secrets.token_urlsafe(40) + ".e30." + secrets.token_urlsafe(32)
    settings = ConnectionSettings(
        url="http://127.0.0.1:1", bot="st-x", client_id="cs-x", client_secret=secret
    )
    with_token = ConnectionSettings(url="http://127.0.0.1:1", bot="st-x", token=token)
    for text in (repr(settings), str(settings), repr(with_token), str(with_token)):
        assert secret not in text
        assert token not in text
    assert "cs-x" in repr(settings)


def test_the_sdk_client_does_not_show_its_credentials() -> None:
    secret = secrets.token_urlsafe(32)
    with Client("http://127.0.0.1:1", bot="st-x", client_id="cs-x", client_secret=secret) as api:
        shown = Secrets(secret)
        minted = api._connection.tokens.token()  # the token it would send
        shown.add_token(minted)
        texts: Iterable[Any] = (api, api._connection, api._connection.tokens)
        for item in texts:
            shown.assert_not_in(repr(item) + str(item), type(item).__name__)


def test_a_cli_traceback_never_shows_local_variables() -> None:
    # Typer can print locals in tracebacks; they would include secrets and tokens.
    assert cli_app.pretty_exceptions_show_locals is False


@pytest.mark.parametrize(
    "url",
    [
        "postgresql//admin:{password}@db.example/contacts",
        "postgresql://admin:{password}@db.example:notaport/contacts",
        "mysql://admin:{password}@db.example/contacts",
    ],
)
def test_a_bad_database_url_is_one_error_line_without_its_password(url: str) -> None:
    password = "pw-" + secrets.token_urlsafe(18)
    result = CliRunner().invoke(
        cli_app, ["db", "upgrade", "--database-url", url.format(password=password)]
    )
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert result.stderr.startswith("error: "), result.stderr
    assert password not in result.stdout + result.stderr
