"""``contactlists dialer …`` and ``contactlists dnc …`` against a real ``serve`` process.

The service runs on the wall clock, so nothing here depends on the hour: a contact is either
leased or counted outside its window, and the counts always add up.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.dialer.support import ALL_WEEK
from tests.support.campaigns import voice_body
from tests.support.cli import Cli


def test_dnc_add_then_check(cli: Cli) -> None:
    cli.ok("lists", "create", "Customers")  # the bot's first list; its DNC list is made on use
    job = cli.json("dnc", "add", "+12125550100", "212 555 0101", "--reason", "complaint")
    assert job["jobId"].startswith("job-")
    cli.ok("jobs", "show", job["jobId"], "--wait")
    results = cli.json("dnc", "check", "+12125550100", "(212) 555-0101", "+12125550102")
    assert [(r["e164"], r["dnc"], r["lists"]) for r in results] == [
        ("+12125550100", True, ["Default Global DNC"]),
        ("+12125550101", True, ["Default Global DNC"]),
        ("+12125550102", False, []),
    ]
    from_stdin = cli.json("dnc", "check", input="+12125550100\nnot a number\n")
    assert [(r["dnc"], r["e164"]) for r in from_stdin] == [(True, "+12125550100"), (False, None)]
    assert "2 of 3 on a DNC list" in cli.ok("dnc", "check", "+12125550100", "+12125550101",
                                             "+12125550102").stdout  # fmt: skip


def test_dialer_next_and_summary(cli: Cli, tmp_path: Path) -> None:
    cli.ok("lists", "create", "Renewals")
    cli.ok("contacts", "add", "Renewals", "--phone", "+12125550100", "--phone", "+12125550101",
           "--wait")  # fmt: skip
    body = voice_body("Spring calls", ["Renewals"])
    body["dialingStrategy"]["callingHours"] = ALL_WEEK
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    campaign_id = cli.json("campaigns", "create", "--body", str(path))["_id"]
    # Not Active yet: the service's 409 is the command's failure.
    assert "Active" in cli.fails(1, "dialer", "next", campaign_id, "--dialer-id", "d1").stderr
    cli.ok("campaigns", "start", campaign_id)
    leased = cli.json("dialer", "next", campaign_id, "--dialer-id", "d1", "--limit", "5")
    summary = cli.json("dialer", "summary", campaign_id)
    assert summary["total"] == 2
    assert summary["leased"] == len(leased)
    assert summary["leased"] + summary["outsideWindow"] + summary["eligibleNow"] == 2
    assert "total" in cli.ok("dialer", "summary", campaign_id).stdout
