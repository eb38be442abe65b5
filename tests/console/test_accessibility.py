"""An automated accessibility pass (axe-core, WCAG 2 A and AA) over the console's pages."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from typing import Any

import pytest

from tests.console.conftest import ConsolePage
from tests.support.live import LiveService

pytestmark = pytest.mark.serial

AXE = (files("axe_playwright_python") / "axe.min.js").read_text()
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(console: ConsolePage) -> list[dict[str, Any]]:
    console.driver.execute_script(AXE)
    result = console.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(r => done(r.violations), e => done(String(e)));",
        RULES,
    )
    assert isinstance(result, list), result
    return [
        {
            "rule": item["id"],
            "impact": item["impact"],
            "where": [node["target"] for node in item["nodes"]][:5],
        }
        for item in result
    ]


def test_the_console_pages_pass_axe(console: ConsolePage, console_service: LiveService) -> None:
    tenant = console_service.tenant()
    name = f"Accessible {uuid.uuid4().hex[:6]}"
    with tenant.client() as sdk:
        created = sdk.lists.create(name)
        sdk.jobs.wait(sdk.contacts.add(name, [{"phoneNumber": "+12125550100"}]).jobId)
        sdk.lists.create(f"{name} deleted")
    found: dict[str, list[dict[str, Any]]] = {}

    console.find("#signin-form")
    found["sign-in"] = violations(console)
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#lists tbody", name)
    found["lists"] = violations(console)
    console.click("Delete", "#lists tbody tr")
    console.find("#dialog")
    found["delete dialog"] = violations(console)
    console.click("Cancel", "#dialog")
    console.open(f"#/lists/{created.id}")
    console.wait_text("#contacts tbody", "+12125550100")
    found["list"] = violations(console)
    for page, ready in (("trash", "Trash"), ("jobs", "Jobs"), ("campaigns", "Campaigns")):
        console.open(f"#/{page}")
        console.wait_text("h1", ready)
        found[page] = violations(console)

    assert {page: items for page, items in found.items() if items} == {}, json.dumps(
        found, indent=1
    )
    # The pass does see problems: a button with no name is one.
    console.driver.execute_script(
        "document.querySelector('#view').append(document.createElement('button'))"
    )
    assert "button-name" in {item["rule"] for item in violations(console)}
