"""``contactlists apps list`` fits the terminal: no column squeezed to nothing at 80 columns.

Two never-shortened ids (the clientId is copied into `apps revoke`) leave no room at 80 columns
for the other four columns of a table; each app is then a block of its fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from contactlists.cli import app as cli
from contactlists.db import migrate
from tests.support.databases import DatabaseFactory
from tests.support.tenants import new_bot_id

FIELDS = ("clientId", "name", "accountId", "bots", "scopes", "state")


def run(*args: str, columns: int) -> Result:
    result = CliRunner().invoke(
        cli, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def two_apps(fresh_database: DatabaseFactory) -> tuple[str, list[dict[str, Any]]]:
    """A database of its own with two apps: one on a bot with both scopes, one on every bot.

    SQLite only: the layout is the terminal's business, whatever the database.
    """
    url = fresh_database.create("sqlite")
    migrate.upgrade(url)
    made = []
    for options in (
        ["--bot", new_bot_id(), "--scope", "campaign-management", "--scope", "campaign-read"],
        [],
    ):
        name = f"Dialer {len(made) + 1} production"
        result = run("apps", "create", "--name", name, *options, "--json", "--database-url", url,
                     columns=80)  # fmt: skip
        made.append(json.loads(result.stdout))
    return url, made


def test_apps_list_at_80_columns_shows_every_field_of_every_app_whole(
    two_apps: tuple[str, list[dict[str, Any]]],
) -> None:
    url, made = two_apps
    out = run("apps", "list", "--database-url", url, columns=80).stdout

    lines = out.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), out
    blocks = [block for block in out.strip().split("\n\n") if block.strip()]
    assert len(blocks) == len(made), out
    for block, app in zip(blocks, made, strict=True):
        shown = dict(
            re.match(r"(\S+)\s+(.*\S)", line).groups()  # type: ignore[union-attr]
            for line in block.splitlines()
        )
        bots = ", ".join(app["bots"]) if isinstance(app["bots"], list) else app["bots"]
        assert shown == {
            "clientId": app["clientId"],
            "name": app["name"],
            "accountId": app["accountId"],
            "bots": bots,
            "scopes": ", ".join(app["scopes"]),
            "state": "active",
        }, block


def test_apps_list_on_a_wide_terminal_is_one_table(
    two_apps: tuple[str, list[dict[str, Any]]],
) -> None:
    url, made = two_apps
    out = run("apps", "list", "--database-url", url, columns=200).stdout

    header, rule, *rows = out.strip().splitlines()
    assert header.split() == list(FIELDS), out
    assert set(rule.strip()) == {"─"}, out
    assert len(rows) == len(made), out
    for row, app in zip(rows, made, strict=True):
        assert row.split()[0] == app["clientId"]
        assert app["name"] in row
        assert app["accountId"] in row
        assert row.rstrip().endswith("active")
