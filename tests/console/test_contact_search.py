"""The console's contact search: a list's page searches its contacts by the start of a name or
unique id, pages through the matches by cursor, and exports what it shows."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from tests.console.conftest import ConsolePage
from tests.support.live import LiveService

pytestmark = pytest.mark.serial

# 120 contacts, 60 of them "Ann…": two pages of matches (50 a page), then a search for one.
PEOPLE = [
    {
        "phoneNumber": f"+1212555{index:04d}",
        "firstName": ("Ann" if index % 2 else "Bo") + str(index),
        "uniqueId": f"U-{index}",
    }
    for index in range(120)
]
ANNS = [person["phoneNumber"] for person in PEOPLE if person["firstName"].startswith("Ann")]


def test_search_pages_the_matches_and_exports_them(
    console: ConsolePage, console_service: LiveService
) -> None:
    tenant = console_service.tenant()
    name = f"Searched {uuid.uuid4().hex[:6]}"
    with tenant.client() as sdk:
        created = sdk.lists.create(name)
        accepted = sdk.contacts.add(name, PEOPLE)
        assert sdk.jobs.wait(accepted.jobId, timeout=60).state == "completed"

    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.open(f"#/lists/{created.id}")
    console.wait_text("#contacts-range", "Contacts 1–50 of 120")

    console.fill("Search contacts", "ANN")
    console.click("Search", "#contacts-search")
    console.wait_text("#contacts-range", "Contacts 1–50 matching “ANN”")
    first = console.text("#contacts tbody")
    assert ANNS[0] in first
    assert PEOPLE[0]["phoneNumber"] not in first  # Bo0
    console.click("Next", "#contacts ~ .pager")
    console.wait_text("#contacts-range", "Contacts 51–60 matching “ANN”")
    assert ANNS[-1] in console.text("#contacts tbody")

    downloads: Path = console.driver.downloads
    before = set(downloads.glob("*.csv"))
    console.click("Export CSV")
    exported: Path = console.wait(
        lambda d: next(iter(set(downloads.glob("*.csv")) - before), None),
        "the export was not downloaded",
    )
    rows = list(csv.DictReader(io.StringIO(exported.read_text())))
    assert [row["phoneNumber"] for row in rows] == ANNS

    console.fill("Search contacts", "u-7")
    console.click("Search", "#contacts-search")
    console.wait_text("#contacts-range", "Contacts 1–11 matching “u-7”")
    console.fill("Search contacts", "nobody")
    console.click("Search", "#contacts-search")
    console.wait_text("#contacts tbody", "No contact matches.")
