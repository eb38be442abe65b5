"""The operator CLI (CONTRACT §2 apps, §7 commands), through ``contactlists.cli.app``.

The commands are synchronous and run their own event loop, so these tests are plain
functions; the API checks run in ``asyncio.run`` after the CLI work is done.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from typing import Any

import jwt
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import inspect
from typer.testing import CliRunner, Result

from contactlists.app import create_app
from contactlists.cli import app as cli
from contactlists.config import Settings
from contactlists.db import migrate
from contactlists.db.engine import create_engine
from tests.support.databases import DatabaseFactory
from tests.support.paths import Paths
from tests.support.tenants import new_bot_id

CLIENT_ID = re.compile(r"^cs-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ORG_ID = re.compile(r"^o-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCOUNT_ID = re.compile(r"^[0-9a-f]{24}$")
URL_SAFE_SECRET = re.compile(r"^[A-Za-z0-9_-]{86,}$")  # 64 random bytes
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def run_ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def create_app_json(database_url: str, *args: str) -> dict[str, Any]:
    name = f"cli test {secrets.token_hex(4)}"
    result = run_ok(
        "apps", "create", "--name", name, *args, "--json", "--database-url", database_url
    )
    created: dict[str, Any] = json.loads(result.stdout)
    assert created["name"] == name
    return created


def list_apps_json(database_url: str) -> list[dict[str, Any]]:
    result = run_ok("apps", "list", "--json", "--database-url", database_url)
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def listed_app(database_url: str, client_id: str) -> dict[str, Any]:
    matches = [item for item in list_apps_json(database_url) if item["clientId"] == client_id]
    assert len(matches) == 1, f"{client_id} listed {len(matches)} times"
    return matches[0]


def mint(*args: str) -> str:
    token = run_ok("token", *args).stdout.strip()
    assert "\n" not in token
    return token


async def get_all_lists_status(database_url: str, bot: str, token: str) -> tuple[int, Any]:
    """POST getAllListDetails on a real app over ASGI; the status and the body."""
    application = create_app(Settings(database_url=database_url))
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        response = await http.post(Paths("v1", bot).get_all, headers={"auth": token})
        return response.status_code, response.json()


# --- apps create -------------------------------------------------------------------------------


def test_apps_create_json_prints_new_credentials(database_url: str) -> None:
    created = create_app_json(database_url)

    assert CLIENT_ID.match(created["clientId"])
    assert URL_SAFE_SECRET.match(created["clientSecret"])
    assert ACCOUNT_ID.match(created["accountId"])
    assert ORG_ID.match(created["orgId"])
    assert created["bots"] == "all"
    assert created["scopes"] == ["campaign-management"]
    assert created["algorithms"] == ["HS256"]
    assert {"clientId", "clientSecret", "accountId", "orgId", "bots", "scopes"} <= set(created)

    other = create_app_json(database_url)
    assert other["clientId"] != created["clientId"]
    assert other["clientSecret"] != created["clientSecret"]
    assert other["accountId"] != created["accountId"]
    assert other["orgId"] != created["orgId"]


def test_apps_create_honours_its_options(database_url: str) -> None:
    account_id = secrets.token_hex(12)
    bots = [new_bot_id(), new_bot_id()]

    created = create_app_json(
        database_url,
        "--account-id",
        account_id,
        "--bot",
        bots[0],
        "--bot",
        bots[1],
        "--scope",
        "campaign-read",
        "--algorithm",
        "HS512",
    )

    assert created["accountId"] == account_id
    assert created["bots"] == bots
    assert created["scopes"] == ["campaign-read"]
    assert created["algorithms"] == ["HS512"]
    listed = listed_app(database_url, created["clientId"])
    assert listed["accountId"] == account_id
    assert listed["bots"] == bots
    assert listed["scopes"] == ["campaign-read"]
    assert listed["algorithms"] == ["HS512"]


def test_apps_create_all_bots_and_both_scopes(database_url: str) -> None:
    created = create_app_json(
        database_url, "--all-bots", "--scope", "campaign-management", "--scope", "campaign-read"
    )

    assert created["bots"] == "all"
    assert sorted(created["scopes"]) == ["campaign-management", "campaign-read"]


def test_apps_create_human_form_shows_the_credentials(database_url: str) -> None:
    name = f"cli test {secrets.token_hex(4)}"
    result = run_ok("apps", "create", "--name", name, "--database-url", database_url)

    client_id = re.search(r"clientId:\s*(\S+)", result.stdout)
    secret = re.search(r"clientSecret:\s*(\S+)", result.stdout)
    assert client_id, result.stdout
    assert secret, result.stdout
    assert CLIENT_ID.match(client_id.group(1))
    assert URL_SAFE_SECRET.match(secret.group(1))
    assert listed_app(database_url, client_id.group(1))["name"] == name


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--account-id", "not-an-account"], "account id"),
        (["--account-id", "0123456789abcdef0123456"], "account id"),
        (["--scope", "campaign-write"], "scope"),
        (["--bot", "st-1", "--all-bots"], "--all-bots"),
        (["--algorithm", "RS256"], "algorithm"),
    ],
    ids=["account-id-not-hex", "account-id-23-chars", "unknown-scope", "bot-and-all-bots", "alg"],
)
def test_apps_create_refuses_bad_input(
    database_url: str, options: list[str], complaint: str
) -> None:
    before = {item["clientId"] for item in list_apps_json(database_url)}
    name = f"refused {secrets.token_hex(4)}"

    result = run(
        "apps", "create", "--name", name, *options, "--json", "--database-url", database_url
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert complaint in lines[0]
    assert "Traceback" not in result.output
    after = list_apps_json(database_url)
    assert {item["clientId"] for item in after} == before
    assert name not in {item["name"] for item in after}


# --- apps list / revoke ------------------------------------------------------------------------


def test_apps_list_json_shows_apps_without_secrets(database_url: str) -> None:
    created = create_app_json(database_url)

    listed = listed_app(database_url, created["clientId"])

    assert "clientSecret" not in listed
    assert created["clientSecret"] not in json.dumps(list_apps_json(database_url))
    assert listed["name"] == created["name"]
    assert listed["accountId"] == created["accountId"]
    assert listed["orgId"] == created["orgId"]
    assert listed["bots"] == "all"
    assert listed["scopes"] == ["campaign-management"]
    assert TIMESTAMP.match(listed["createdAt"])
    assert listed["revokedAt"] is None


def test_apps_list_table_shows_whole_client_ids(database_url: str) -> None:
    created = create_app_json(database_url)

    # An ordinary 80-column terminal, or a pipe: the operator must be able to copy the
    # clientId from the table to `apps revoke`, so it may not be cut short.
    result = run("apps", "list", "--database-url", database_url, env={"COLUMNS": "80"})

    assert result.exit_code == 0, result.output
    assert created["clientId"] in result.stdout
    assert created["clientSecret"] not in result.stdout


def test_apps_revoke_marks_the_app_revoked(database_url: str) -> None:
    created = create_app_json(database_url)
    bystander = create_app_json(database_url)

    result = run_ok("apps", "revoke", created["clientId"], "--database-url", database_url)

    assert created["clientId"] in result.stdout
    revoked = listed_app(database_url, created["clientId"])
    assert TIMESTAMP.match(revoked["revokedAt"])
    assert listed_app(database_url, bystander["clientId"])["revokedAt"] is None
    # Revoking again is harmless and keeps the first revocation time.
    run_ok("apps", "revoke", created["clientId"], "--database-url", database_url)
    assert listed_app(database_url, created["clientId"])["revokedAt"] == revoked["revokedAt"]


def test_apps_revoke_unknown_client_id_fails(database_url: str) -> None:
    unknown = "cs-00000000-0000-4000-8000-000000000000"

    result = run("apps", "revoke", unknown, "--database-url", database_url)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert unknown in lines[0]
    assert unknown not in {item["clientId"] for item in list_apps_json(database_url)}


# --- token -------------------------------------------------------------------------------------


def test_token_carries_the_documented_claims(database_url: str) -> None:
    created = create_app_json(database_url)
    before = int(time.time())

    token = mint(
        "--client-id",
        created["clientId"],
        "--client-secret",
        created["clientSecret"],
        "--sub",
        "u-operator",
        "--expires-in",
        "600",
    )

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, created["clientSecret"], algorithms=["HS256"])
    assert claims["appId"] == created["clientId"]
    assert claims["sub"] == "u-operator"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 600
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, created["clientSecret"] + "x", algorithms=["HS256"])


def test_token_defaults_to_one_hour_and_no_sub(database_url: str) -> None:
    created = create_app_json(database_url)

    token = mint("--client-id", created["clientId"], "--client-secret", created["clientSecret"])

    claims = jwt.decode(token, created["clientSecret"], algorithms=["HS256"])
    assert claims["appId"] == created["clientId"]
    assert "sub" not in claims
    assert claims["exp"] == claims["iat"] + 3600


def test_token_expires_in_zero_leaves_out_exp(database_url: str) -> None:
    created = create_app_json(database_url)

    token = mint(
        "--client-id",
        created["clientId"],
        "--client-secret",
        created["clientSecret"],
        "--expires-in",
        "0",
    )

    claims = jwt.decode(token, created["clientSecret"], algorithms=["HS256"])
    assert "exp" not in claims
    assert claims["appId"] == created["clientId"]
    assert isinstance(claims["iat"], int)


def test_token_is_accepted_by_the_api_until_the_app_is_revoked(database_url: str) -> None:
    created = create_app_json(database_url)
    bot = new_bot_id()
    token = mint(
        "--client-id",
        created["clientId"],
        "--client-secret",
        created["clientSecret"],
        "--sub",
        "u-operator",
    )

    status, body = asyncio.run(get_all_lists_status(database_url, bot, token))
    assert status == 200, body
    assert body["status"] == "success"
    assert body["data"] == []

    run_ok("apps", "revoke", created["clientId"], "--database-url", database_url)

    status, body = asyncio.run(get_all_lists_status(database_url, bot, token))
    assert status == 401, body
    assert body["status"] == "failure"
    assert body["errors"][0]["code"] == 4002
    assert body["errors"][0]["reason"] == "invalid_credentials"


def test_token_honours_the_apps_algorithms(database_url: str) -> None:
    hs512_app = create_app_json(database_url, "--algorithm", "HS512")
    hs256_app = create_app_json(database_url)
    bot = new_bot_id()

    def mint_for(created: dict[str, Any], algorithm: str) -> str:
        return mint(
            "--client-id",
            created["clientId"],
            "--client-secret",
            created["clientSecret"],
            "--algorithm",
            algorithm,
        )

    hs512_token = mint_for(hs512_app, "HS512")
    assert jwt.get_unverified_header(hs512_token)["alg"] == "HS512"
    status, body = asyncio.run(get_all_lists_status(database_url, bot, hs512_token))
    assert status == 200, body
    # An algorithm the app does not allow is refused, even with the right secret.
    status, body = asyncio.run(
        get_all_lists_status(database_url, bot, mint_for(hs256_app, "HS512"))
    )
    assert status == 401, body


def test_token_refuses_an_unknown_algorithm() -> None:
    result = run("token", "--client-id", "cs-x", "--client-secret", "s" * 43, "--algorithm", "none")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "algorithm" in result.stderr


# --- db upgrade --------------------------------------------------------------------------------


async def schema_state(database_url: str) -> tuple[str | None, set[str]]:
    engine = create_engine(database_url)
    try:
        revision = await migrate.current_revision(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        return revision, tables
    finally:
        await engine.dispose()


def test_db_upgrade_creates_the_schema_and_is_idempotent(
    fresh_database: DatabaseFactory, backend: str
) -> None:
    database_url = fresh_database.create(backend)
    assert asyncio.run(schema_state(database_url)) == (None, set())

    first = run_ok("db", "upgrade", "--database-url", database_url)

    head = migrate.head_revision()
    assert head is not None
    assert head in first.stdout
    revision, tables = asyncio.run(schema_state(database_url))
    assert revision == head
    assert {"app", "contact_list", "alembic_version"} <= tables

    second = run_ok("db", "upgrade", "--database-url", database_url)

    assert head in second.stdout
    assert asyncio.run(schema_state(database_url)) == (revision, tables)
    # The upgraded database is usable by the other commands.
    created = create_app_json(database_url)
    assert [item["clientId"] for item in list_apps_json(database_url)] == [created["clientId"]]


# --- help --------------------------------------------------------------------------------------


HELP_CASES = [
    ([], ["serve", "worker", "db", "apps", "token"]),
    (["apps"], ["create", "list", "revoke"]),
    (["db"], ["upgrade"]),
    (["serve"], ["--host", "--port", "--database-url"]),
    (["token"], ["--client-id", "--client-secret", "--sub", "--expires-in"]),
    (["apps", "create"], ["--name", "--account-id", "--bot", "--all-bots", "--scope", "--json"]),
    (["apps", "list"], ["--json"]),
    (["apps", "revoke"], ["client_id", "revoke"]),
    (["db", "upgrade"], ["--database-url"]),
    (["worker"], ["--count", "--database-url"]),
]


@pytest.mark.parametrize(
    ("command", "mentions"),
    HELP_CASES,
    ids=[" ".join(command) or "root" for command, _ in HELP_CASES],
)
def test_help(command: list[str], mentions: list[str]) -> None:
    result = run(*command, "--help", env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    for word in mentions:
        assert word.lower() in result.stdout.lower(), (
            f"{word} missing from `{' '.join(command)} --help`"
        )
