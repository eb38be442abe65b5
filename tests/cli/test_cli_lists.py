"""``contactlists lists …`` against a real ``serve`` process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from contactlists.tokens import mint_token
from tests.support.cli import Cli, only_line
from tests.support.servers import free_port

LIST_ID = re.compile(r"cl-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUEST = r"request [0-9a-zA-Z-]+"


def create(cli: Cli, name: str, *args: str) -> dict[str, object]:
    created: dict[str, object] = cli.json("lists", "create", name, *args)
    assert created["name"] == name
    assert LIST_ID.fullmatch(str(created["_id"]))
    return created


def test_create_show_and_list(cli: Cli) -> None:
    created = create(
        cli,
        "Spring renewals",
        "--description",
        "Due in spring",
        "--allow-duplicates",
        "--type",
        "sms",
        "--region",
        "gb",
    )
    assert (created["description"], created["allowDuplicates"]) == ("Due in spring", True)
    assert (created["listType"], created["defaultRegion"]) == ("sms", "GB")
    list_id = str(created["_id"])
    assert cli.json("lists", "show", list_id) == created

    # The table shows the whole id, the name as written (no markup) and the count.
    create(cli, "Calls [east]")
    table = cli.ok("lists", "ls").stdout
    assert list_id in table
    assert "Calls [east]" in table
    assert "2 lists" in table

    listed = cli.json("lists", "ls", "--type", "sms")
    assert [item["_id"] for item in listed] == [list_id]
    assert [item["name"] for item in cli.json("lists", "ls", "--search", "EAST")] == [
        "Calls [east]"
    ]
    assert len(cli.json("lists", "ls", "--limit", "1")) == 1
    dnc = cli.json("lists", "ls", "--type", "dnc")
    assert [(item["name"], item["listType"]) for item in dnc] == [("Default Global DNC", "dnc")]


def test_lists_ls_json_is_read_by_python_json_tool(cli: Cli) -> None:
    """The brief's pipeline, literally: `contactlists lists ls --json | python -m json.tool`."""
    create(cli, "Piped list")
    pipeline = subprocess.run(
        f"{sys.executable} -m contactlists lists ls --json | {sys.executable} -m json.tool",
        shell=True,
        env=cli.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert pipeline.returncode == 0, pipeline.stderr
    assert [item["name"] for item in json.loads(pipeline.stdout)] == ["Piped list"]
    assert pipeline.stderr == ""


def test_options_may_follow_the_subcommand_and_flags_beat_the_environment(cli: Cli) -> None:
    assert cli.tenant is not None
    create(cli, "Flagged")
    # Every connection setting as a flag after the subcommand; the environment's are wrong.
    flags = [
        "--url",
        cli.tenant.base_url,
        "--bot",
        cli.tenant.bot,
        "--client-id",
        cli.tenant.client_id,
        "--client-secret",
        cli.tenant.client_secret,
        "--account-id",
        cli.tenant.account_id,
    ]
    wrong = {
        "CONTACTLISTS_URL": f"http://127.0.0.1:{free_port()}",
        "CONTACTLISTS_BOT": "st-someone-else",
        "CONTACTLISTS_CLIENT_SECRET": "not-the-secret",
    }
    listed = json.loads(cli.ok("lists", "ls", "--json", *flags, **wrong).stdout)
    assert [item["name"] for item in listed] == ["Flagged"]


def test_a_profile_file_connects_and_a_token_works(cli: Cli) -> None:
    assert cli.tenant is not None
    tenant = cli.tenant
    create(cli, "From a profile")
    token = mint_token(tenant.client_id, tenant.client_secret, sub="u-profile")
    (cli.config_home / "contactlists").mkdir(parents=True)
    (cli.config_home / "contactlists" / "profiles.toml").write_text(
        f'[work]\nurl = "{tenant.base_url}"\nbot = "{tenant.bot}"\ntoken = "{token}"\n',
        encoding="utf-8",
    )
    bare = dict.fromkeys(tenant.environment(), "")  # nothing from the environment
    listed = json.loads(cli.ok("lists", "ls", "--json", "--profile", "work", **bare).stdout)
    assert [item["name"] for item in listed] == ["From a profile"]


def test_update(cli: Cli) -> None:
    list_id = str(create(cli, "Before")["_id"])
    updated = cli.json(
        "lists",
        "update",
        list_id,
        "--name",
        "After",
        "--description",
        "renamed",
        "--no-allow-duplicates",
        "--region",
        "de",
    )
    assert updated["contactListId"] == list_id
    assert {key: updated["body"][key] for key in ("name", "description", "defaultRegion")} == {
        "name": "After",
        "description": "renamed",
        "defaultRegion": "DE",
    }
    shown = cli.json("lists", "show", list_id)
    assert (shown["name"], shown["allowDuplicates"], shown["defaultRegion"]) == (
        "After",
        False,
        "DE",
    )
    human = cli.ok("lists", "update", list_id, "--allow-duplicates").stdout
    assert human.strip() == f"updated {list_id}: allowDuplicates True"


def test_update_without_changes_is_a_usage_error(cli: Cli) -> None:
    list_id = str(create(cli, "Unchanged")["_id"])
    result = cli.fails(2, "lists", "update", list_id)
    assert only_line(result.stderr).startswith("error: nothing to change: give --name")


def test_delete_and_restore(cli: Cli) -> None:
    list_id = str(create(cli, "Short-lived")["_id"])
    deleted = cli.ok("lists", "delete", list_id)
    assert deleted.stdout.strip() == f"deleted Short-lived ({list_id})"
    assert f"contactlists lists restore {list_id}" in deleted.stderr
    assert cli.json("lists", "ls") == []
    cli.fails(1, "lists", "show", list_id)

    restored = cli.json("lists", "restore", list_id)
    assert (restored["_id"], restored["name"]) == (list_id, "Short-lived")
    assert [item["_id"] for item in cli.json("lists", "ls")] == [list_id]

    # --json answers with the list as it was.
    assert cli.json("lists", "delete", list_id)["_id"] == list_id


def test_an_unknown_list_exits_1_with_the_services_sentence(cli: Cli) -> None:
    missing = "cl-00000000-0000-4000-8000-000000000000"
    sentences = {
        "show": "was not found",
        "delete": "was not found",
        "update": "was not found",
        "restore": "is not in the trash",
    }
    for verb, sentence in sentences.items():
        rest = ["--name", "x"] if verb == "update" else []
        result = cli.fails(1, "lists", verb, missing, *rest)
        assert result.stdout == ""
        assert re.fullmatch(
            rf"error: Contact list {missing} {sentence}\. \(404 not_found, {REQUEST}\)",
            only_line(result.stderr),
        ), result.stderr


def test_a_duplicate_name_exits_1(cli: Cli) -> None:
    create(cli, "Taken")
    result = cli.fails(1, "lists", "create", "TAKEN", "--json")
    assert result.stdout == ""
    assert re.fullmatch(
        rf"error: A contact list named TAKEN already exists\. \(409 duplicate_name, {REQUEST}\)",
        only_line(result.stderr),
    ), result.stderr
    other = str(create(cli, "Other")["_id"])
    assert "409 duplicate_name" in cli.fails(1, "lists", "update", other, "--name", "taken").stderr


def test_a_validation_error_exits_1_naming_the_field(cli: Cli) -> None:
    result = cli.fails(1, "lists", "create", "x" * 49)
    assert result.stderr.startswith("error: ")
    assert "400 validation_error" in result.stderr.splitlines()[0]
    assert "name" in result.stderr


def test_a_wrong_secret_prints_one_line_and_exits_1(cli: Cli) -> None:
    """As a real process: no traceback, no warning (a short secret makes PyJWT warn), one line."""
    for secret in ("wrong", "x" * 86):
        result = cli.process("lists", "ls", env={"CONTACTLISTS_CLIENT_SECRET": secret})
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        line = only_line(result.stderr)
        assert re.fullmatch(
            rf"error: Invalid SDK credentials \(401 invalid_credentials, {REQUEST}\): "
            r"check the client id and secret \(or the token\)",
            line,
        ), line
