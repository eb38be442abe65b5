"""``contactlists campaigns …`` against a real ``serve`` process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.campaigns import sms_body, voice_body
from tests.support.cli import Cli, only_line

REQUEST = r"request [0-9a-zA-Z-]+"
CAMPAIGN_ID = re.compile(r"cd-[0-9a-f-]{36}")


def body_file(tmp_path: Path, body: dict[str, object], name: str = "campaign.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_a_voice_campaign_from_create_to_stop(cli: Cli, tmp_path: Path) -> None:
    cli.ok("lists", "create", "Renewals")
    body = body_file(tmp_path, voice_body("Spring calls", ["Renewals"]))
    created = cli.json("campaigns", "create", "--type", "voice", "--body", body)
    campaign_id = created["_id"]
    assert CAMPAIGN_ID.fullmatch(campaign_id)
    assert (created["name"], created["status"], created["contactLists"]) == (
        "Spring calls",
        "Ready",
        ["Renewals"],
    )
    assert cli.json("campaigns", "show", campaign_id)["_id"] == campaign_id
    shown = cli.ok("campaigns", "show", campaign_id).stdout
    assert campaign_id in shown
    assert "Renewals" in shown

    listed = cli.json("campaigns", "ls", "--type", "voice")
    assert [item["_id"] for item in listed] == [campaign_id]
    assert cli.json("campaigns", "ls", "--type", "sms") == []
    assert "1 of 1 campaign" in cli.ok("campaigns", "ls").stdout  # voice by default

    # The list is in use now.
    in_use = cli.json("lists", "ls")[0]
    assert (in_use["isListInUse"], in_use["campaignInUse"][0]["id"]) == (True, campaign_id)

    status = cli.json("campaigns", "status", campaign_id)
    assert (status["id"], status["status"]) == (campaign_id, "Ready")
    assert cli.ok("campaigns", "status", campaign_id).stdout.strip() == (
        f"Spring calls ({campaign_id}): Ready"
    )
    assert cli.json("campaigns", "start", campaign_id)["status"] == "Active"
    assert cli.json("campaigns", "pause", campaign_id)["status"] == "Paused"
    resumed = cli.ok("campaigns", "resume", campaign_id).stdout.strip()
    assert resumed.startswith(f"{campaign_id}: Active (")
    assert cli.json("campaigns", "stop", campaign_id)["status"] == "Stopped"
    assert cli.json("campaigns", "status", campaign_id)["status"] == "Stopped"


def test_an_invalid_transition_exits_1(cli: Cli, tmp_path: Path) -> None:
    cli.ok("lists", "create", "Renewals")
    body = body_file(tmp_path, voice_body("Calls", ["Renewals"]))
    campaign_id = cli.json("campaigns", "create", "--body", body)["_id"]  # type from the body
    for trigger in ("pause", "resume", "stop"):
        result = cli.fails(1, "campaigns", trigger, campaign_id)
        assert re.fullmatch(
            rf"error: .+ \(409 invalid_state, {REQUEST}\)", only_line(result.stderr)
        ), result.stderr
    cli.ok("campaigns", "start", campaign_id)
    assert "409 invalid_state" in cli.fails(1, "campaigns", "start", campaign_id).stderr
    # An Active campaign is not deleted.
    assert "409 invalid_state" in cli.fails(1, "campaigns", "delete", campaign_id).stderr


def test_update_from_stdin_and_delete(cli: Cli, tmp_path: Path) -> None:
    cli.ok("lists", "create", "Texts")
    cli.ok("lists", "create", "More texts")
    body = body_file(tmp_path, sms_body("Reminders", ["Texts"]))
    campaign_id = cli.json("campaigns", "create", "--type", "sms", "--body", body)["_id"]
    assert [item["_id"] for item in cli.json("campaigns", "ls", "--type", "sms")] == [campaign_id]

    changed = sms_body("Reminders 2", ["Texts", "More texts"])
    updated = cli.json("campaigns", "update", campaign_id, "--body", "-", input=json.dumps(changed))
    assert (updated["_id"], updated["name"]) == (campaign_id, "Reminders 2")
    assert updated["contactLists"] == ["Texts", "More texts"]

    deleted = cli.ok("campaigns", "delete", campaign_id, "--type", "sms")
    assert deleted.stdout.strip() == f"deleted Reminders 2 ({campaign_id})"
    cli.fails(1, "campaigns", "show", campaign_id)
    assert cli.json("campaigns", "ls", "--type", "sms") == []


def test_paging(cli: Cli, tmp_path: Path) -> None:
    cli.ok("lists", "create", "Renewals")
    for index in range(3):
        body = body_file(tmp_path, voice_body(f"Calls {index}", ["Renewals"]))
        cli.ok("campaigns", "create", "--type", "voice", "--body", body)
    assert len(cli.json("campaigns", "ls", "--limit", "2")) == 2
    assert len(cli.json("campaigns", "ls", "--limit", "2", "--skip", "2")) == 1
    assert "2 of 3 campaigns" in cli.ok("campaigns", "ls", "--limit", "2").stdout


def test_a_list_in_use_is_deleted_only_with_force(cli: Cli, tmp_path: Path) -> None:
    list_id = cli.json("lists", "create", "Renewals")["_id"]
    body = body_file(tmp_path, voice_body("Spring calls", ["Renewals"]))
    campaign_id = cli.json("campaigns", "create", "--type", "voice", "--body", body)["_id"]

    refused = cli.fails(1, "lists", "delete", list_id)
    first, hint = refused.stderr.strip().splitlines()
    assert re.fullmatch(
        r"error: Contact list Renewals is in use by campaign\(s\) Spring calls and cannot be "
        rf"deleted \(409 list_in_use, {REQUEST}\)",
        first,
    ), first
    assert hint.strip() == "give --force to detach it from its campaigns and delete it"

    assert cli.json("lists", "delete", list_id, "--force")["_id"] == list_id
    assert cli.json("campaigns", "show", campaign_id)["contactLists"] == []


def test_bad_bodies(cli: Cli, tmp_path: Path) -> None:
    for given, message in [
        ("{nope", "error: --body stdin is not valid JSON: "),
        ("[1]", "error: --body stdin must hold a JSON object"),
    ]:
        result = cli.fails(2, "campaigns", "create", "--type", "voice", "--body", "-", input=given)
        assert only_line(result.stderr).startswith(message), result.stderr
    absent = tmp_path / "absent.json"
    result = cli.fails(2, "campaigns", "create", "--body", str(absent))
    assert only_line(result.stderr).startswith(f"error: cannot read --body {absent}")
    assert "Missing option '--body'" in cli.fails(2, "campaigns", "create").stderr

    # A body the service refuses: 400, every problem on its own line under the first.
    body = body_file(tmp_path, {"name": 1})
    refused = cli.fails(1, "campaigns", "create", "--type", "sms", "--body", body)
    first, *problems = refused.stderr.strip().splitlines()
    assert first.startswith("error: ")
    assert "(400 validation_error" in first
    assert "  name: name must be a string" in problems
    assert any(line.startswith("  contactLists: ") for line in problems), problems

    # A list that does not exist.
    body = body_file(tmp_path, voice_body("Calls", ["No such list"]))
    missing = cli.fails(1, "campaigns", "create", "--type", "voice", "--body", body)
    assert "No such list" in missing.stderr


def test_unknown_campaigns_exit_1(cli: Cli) -> None:
    missing = "cd-00000000-0000-4000-8000-000000000000"
    for verb in ("show", "status", "start", "pause", "resume", "stop", "delete"):
        result = cli.fails(1, "campaigns", verb, missing)
        assert re.fullmatch(rf"error: .+ \(404 not_found, {REQUEST}\)", only_line(result.stderr))
