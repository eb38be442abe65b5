"""``--dedupe-key``, ``--on-duplicate`` and ``contactlists jobs undo`` against a real service."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.cli import Cli, csv_text, only_line

REQUEST = r"request [0-9a-zA-Z-]+"


def test_an_upsert_by_unique_id_and_its_undo(cli: Cli, tmp_path: Path) -> None:
    created = cli.json("lists", "create", "Keyed", "--dedupe-key", "uniqueId")
    assert created["dedupeKey"] == "uniqueId"
    shown = cli.ok("lists", "show", created["_id"])
    assert re.search(r"^dedupe key\s+uniqueId\s*$", shown.stdout, re.M), shown.stdout
    contacts = [{"phoneNumber": "+14155550101", "uniqueId": "a", "firstName": "Ada"}]
    cli.json("contacts", "add", "Keyed", "--wait", input=json.dumps(contacts))
    before = cli.json("contacts", "ls", created["_id"])

    file = tmp_path / "changes.csv"
    file.write_text(
        csv_text([["phoneNumber", "uniqueId", "firstName"], ["+12125550102", "a", "Moved"]]),
        encoding="utf-8",
    )
    upsert = cli.ok(
        "contacts", "import", created["_id"], str(file), "--on-duplicate", "update", "--wait"
    )
    assert re.search(r"^updated\s+1\s*$", upsert.stdout, re.M), upsert.stdout
    job_id = re.search(r"^job\s+(\S+)", upsert.stdout, re.M)
    assert job_id is not None
    assert cli.json("contacts", "ls", created["_id"])[0]["firstName"] == "Moved"

    undone = cli.ok("jobs", "undo", job_id.group(1), "--wait")
    assert re.search(r"^restored\s+1\s*$", undone.stdout, re.M), undone.stdout
    assert cli.json("contacts", "ls", created["_id"]) == before
    again = cli.fails(1, "jobs", "undo", job_id.group(1))
    assert re.search(rf"\(409 conflict, {REQUEST}\)", only_line(again.stderr)), again.stderr
    refused = cli.fails(1, "lists", "update", created["_id"], "--dedupe-key", "phoneNumber")
    assert "(409 conflict" in only_line(refused.stderr)


def test_on_duplicate_update_by_add_and_bad_choices(cli: Cli) -> None:
    cli.json("lists", "create", "Numbers")
    first = [{"phoneNumber": "+14155550101", "firstName": "Ada"}]
    cli.json("contacts", "add", "Numbers", "--wait", input=json.dumps(first))
    change = [{"phoneNumber": "+14155550101", "lastName": "Lovelace"}]
    job = cli.json(
        "contacts", "add", "Numbers", "--on-duplicate", "update", "--wait", input=json.dumps(change)
    )
    assert (job["inserted"], job["updated"], job["duplicates"]) == (0, 1, 0)
    queued = cli.json("jobs", "undo", job["_id"])
    assert cli.json("jobs", "show", queued["jobId"], "--wait")["restored"] == 1
    plain = cli.fails(1, "jobs", "undo", job["_id"])
    assert "(409 conflict" in only_line(plain.stderr)
    cli.fails(2, "contacts", "add", "Numbers", "--on-duplicate", "merge", "--phone", "+1415")
    cli.fails(2, "lists", "create", "Other", "--dedupe-key", "email")
