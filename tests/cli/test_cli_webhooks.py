"""``contactlists apps webhook add|ls|rm``: the operator registers, lists and removes hooks.

The commands read CONTACTLISTS_WEBHOOK_ALLOW_HTTP from the settings, which are cached per
process: each test clears the cache around its own environment.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from contactlists.cli import app as cli
from contactlists.config import Settings, get_settings
from contactlists.db.engine import create_engine, create_sessionmaker
from contactlists.webhooks.delivery import deliver_some
from contactlists.webhooks.signing import signing_key
from contactlists.webhooks.urls import MAX_URL_LENGTH
from tests.webhooks.receiver import receiver

HOOK_ID = re.compile(r"^wh-[0-9a-f-]{36}$")
ALLOW_HTTP = "CONTACTLISTS_WEBHOOK_ALLOW_HTTP"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ALLOW_HTTP, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def new_app(database_url: str) -> dict[str, Any]:
    name = f"hooks {secrets.token_hex(4)}"
    result = run("apps", "create", "--name", name, "--json", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    created: dict[str, Any] = json.loads(result.stdout)
    return created


def add(database_url: str, client_id: str, url: str, *args: str) -> Result:
    return run("apps", "webhook", "add", client_id, url, *args, "--database-url", database_url)


def listed(database_url: str, client_id: str) -> list[dict[str, Any]]:
    result = run("apps", "webhook", "ls", client_id, "--json", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    hooks: list[dict[str, Any]] = json.loads(result.stdout)
    return hooks


def test_add_ls_and_rm(database_url: str) -> None:
    created = new_app(database_url)
    client_id = created["clientId"]
    assert listed(database_url, client_id) == []

    result = add(database_url, client_id, "https://hooks.example.com/a", "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert HOOK_ID.match(first["id"])
    assert first["url"] == "https://hooks.example.com/a"
    assert first["events"] == ["job.completed", "job.failed", "list.deleted", "list.restored"]
    # Derived from the app's secret, never the secret itself.
    assert first["signingKey"] == signing_key(created["clientSecret"])
    assert first["signingKey"] != created["clientSecret"]

    result = add(
        database_url,
        client_id,
        "https://hooks.example.com/b",
        "--event",
        "list.restored",
        "--event",
        "job.failed",
    )
    assert result.exit_code == 0, result.output
    assert "signingKey: " + first["signingKey"] in result.stdout
    second_id = re.search(r"^id:\s+(\S+)$", result.stdout, re.MULTILINE)
    assert second_id is not None

    hooks = listed(database_url, client_id)
    assert [(h["id"], h["url"], h["events"]) for h in hooks] == [
        (first["id"], "https://hooks.example.com/a", first["events"]),
        (second_id[1], "https://hooks.example.com/b", ["job.failed", "list.restored"]),
    ]
    assert all(h["lastAttempts"] == [] and h["deliveries"] == {} for h in hooks)
    # Another app's hooks are not shown.
    assert listed(database_url, new_app(database_url)["clientId"]) == []

    result = run("apps", "webhook", "ls", client_id, "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert first["id"] in result.stdout
    assert "none yet" in result.stdout

    result = run("apps", "webhook", "rm", client_id, first["id"], "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"removed {first['id']}"
    assert [h["id"] for h in listed(database_url, client_id)] == [second_id[1]]

    result = run("apps", "webhook", "rm", client_id, first["id"], "--database-url", database_url)
    assert result.exit_code == 1
    assert f"no webhook {first['id']}" in result.output
    other = new_app(database_url)["clientId"]
    result = run("apps", "webhook", "rm", other, second_id[1], "--database-url", database_url)
    assert result.exit_code == 1  # not that app's hook
    assert len(listed(database_url, client_id)) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "CONTACTLISTS_WEBHOOK_ALLOW_HTTP"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("ftp://hooks.example.com/x", "https://"),
        ("not a url", "spaces"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "longer than"),
    ],
)
def test_bad_urls_are_refused_and_nothing_is_stored(
    database_url: str, url: str, message: str
) -> None:
    client_id = new_app(database_url)["clientId"]
    result = add(database_url, client_id, url)
    assert result.exit_code == 1
    assert message in result.output
    assert listed(database_url, client_id) == []


def test_bad_events_unknown_apps_and_the_limit(database_url: str) -> None:
    client_id = new_app(database_url)["clientId"]
    result = add(database_url, client_id, "https://h.example/", "--event", "list.created")
    assert result.exit_code == 1
    assert "unknown event(s) list.created" in result.output

    for command in (["add", "cs-nope", "https://h.example/"], ["ls", "cs-nope"]):
        result = run("apps", "webhook", *command, "--database-url", database_url)
        assert result.exit_code == 1
        assert "no app with clientId cs-nope" in result.output

    for n in range(10):
        assert add(database_url, client_id, f"https://h.example/{n}").exit_code == 0
    result = add(database_url, client_id, "https://h.example/10")
    assert result.exit_code == 1
    assert "at most 10 webhooks" in result.output

    revoked = new_app(database_url)["clientId"]
    assert run("apps", "revoke", revoked, "--database-url", database_url).exit_code == 0
    result = add(database_url, revoked, "https://h.example/")
    assert result.exit_code == 1
    assert "revoked" in result.output


def test_http_is_accepted_with_the_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = new_app(database_url)["clientId"]
    monkeypatch.setenv(ALLOW_HTTP, "true")
    get_settings.cache_clear()
    result = add(database_url, client_id, "http://127.0.0.1:9/hook")
    assert result.exit_code == 0, result.output
    assert [h["url"] for h in listed(database_url, client_id)] == ["http://127.0.0.1:9/hook"]


@pytest.mark.serial
def test_ls_shows_the_last_tries(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    created = new_app(database_url)
    client_id = created["clientId"]
    monkeypatch.setenv(ALLOW_HTTP, "true")
    get_settings.cache_clear()
    settings = Settings(database_url=database_url, webhook_retry_seconds=0.01)

    with receiver([500]) as hook_server:
        assert (
            add(database_url, client_id, hook_server.url, "--event", "list.deleted").exit_code == 0
        )
        hook_id = listed(database_url, client_id)[0]["id"]
        asyncio.run(record_and_deliver(settings, created, hook_id))
    [hook] = listed(database_url, client_id)
    assert hook["deliveries"] == {"delivered": 1}
    assert [(a["attempt"], a["statusCode"], a["event"]) for a in hook["lastAttempts"]] == [
        (2, 200, "list.deleted"),
        (1, 500, "list.deleted"),
    ]
    result = run("apps", "webhook", "ls", client_id, "--database-url", database_url)
    assert result.exit_code == 0, result.output
    assert "delivered 1" in result.stdout
    assert re.search(r"\s2\s+list\.deleted\s+200\s+delivered", result.stdout), result.stdout
    assert re.search(r"\s1\s+list\.deleted\s+500\s+delivered", result.stdout), result.stdout


async def record_and_deliver(settings: Settings, created: dict[str, Any], hook_id: str) -> None:
    """An event for the app's account, delivered until acknowledged."""
    from contactlists.webhooks import service

    engine = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await service.record_event(
                session,
                account_id=created["accountId"],
                bot_id="st-any",
                event_type="list.deleted",
                data={"contactListId": "cl-x", "botId": "st-any", "name": "x"},
            )
        for _ in range(200):
            await deliver_some(sessions, settings)
            async with sessions() as session:
                [view] = await service.of_app(session, created["clientId"])
            assert view.hook.id == hook_id
            if view.counts.get("delivered"):
                return
            await asyncio.sleep(0.02)
        raise AssertionError("never delivered")
    finally:
        await engine.dispose()
