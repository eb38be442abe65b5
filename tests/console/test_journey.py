"""A campaign manager's journey through the console, in Chromium, against a real ``serve``.

Each step asserts what the page shows. With ``CONTACTLISTS_SCREENSHOTS`` set to a folder, the
journey also saves the main pages there at 1280×800 (``make screenshots``).
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contactlists.db.engine import create_engine, create_sessionmaker
from contactlists.models.contacts import Contact
from tests.console.conftest import ConsolePage
from tests.support.live import LiveService, LiveTenant, run_async

pytestmark = pytest.mark.serial

ROWS = 5_000
# Area codes in several time zones (New York, Chicago, Los Angeles, Denver, Honolulu, Boston).
AREAS = ["212", "312", "415", "303", "808", "617"]
BAD_EVERY = 200  # every 200th row has a number that is not a phone number: 25 bad rows


def sample_csv(path: Path) -> tuple[list[str], list[int]]:
    """A file whose header needs mapping; the good numbers (E.164) and the bad rows' lines."""
    good: list[str] = []
    bad_lines: list[int] = []
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Mobile", "Given name", "Family name", "Plan"])
        for n in range(ROWS):
            line = n + 2  # the header is line 1
            if n % BAD_EVERY == BAD_EVERY - 1:
                writer.writerow([f"not-a-number-{n}", f"Bad{n}", "Row", "gold"])
                bad_lines.append(line)
            else:
                area = AREAS[n % len(AREAS)]
                writer.writerow([f"({area}) 555-{n:04d}", f"Ann{n}", f"Lee{n}", "gold"])
                good.append(f"+1{area}555{n:04d}")
    return good, bad_lines


def database_rows(database_url: str, account_id: str, list_id: str) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                query = (
                    select(Contact.id, Contact.phone, Contact.first_name)
                    .where(Contact.account_id == account_id, Contact.list_id == list_id)
                    .order_by(Contact.position)
                )
                return [(a, b, c or "") for a, b, c in (await session.execute(query)).all()]
        finally:
            await engine.dispose()

    return run_async(read())


SAMPLE_LISTS = [
    ("Win-back Q3", "call", 1200),
    ("SMS appointment reminders", "sms", 860),
    ("Payment reminders", "sms", 40),
    ("Webinar follow-up", "call", 310),
]


def sample_lists(tenant: LiveTenant) -> None:
    """A few more lists, so that the lists page of the screenshots looks like a real one."""
    with tenant.client() as sdk:
        for name, list_type, size in SAMPLE_LISTS:
            sdk.lists.create(name, list_type=list_type)
            contacts = [{"phoneNumber": f"+1415555{n:04d}"} for n in range(size)]
            sdk.jobs.wait(sdk.contacts.add(name, contacts).jobId)


class Shots:
    """Saves the page as a PNG when ``CONTACTLISTS_SCREENSHOTS`` names a folder."""

    def __init__(self, driver: Any) -> None:
        folder = os.environ.get("CONTACTLISTS_SCREENSHOTS")
        self.driver = driver
        self.folder = Path(folder) if folder else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, name: str, at: str | None = None) -> None:
        """The page scrolled to its top, or until the element ``at`` is at its bottom."""
        if self.folder:
            self.driver.execute_script(
                "const el = arguments[0] && document.querySelector(arguments[0]);"
                "if (el) el.scrollIntoView({block: 'end'}); else window.scrollTo(0, 0);",
                at,
            )
            self.driver.save_screenshot(str(self.folder / f"{name}.png"))


def test_campaign_manager_journey(
    console: ConsolePage, console_service: LiveService, tmp_path: Path
) -> None:
    tenant = console_service.tenant()
    shots = Shots(console.driver)
    list_name = f"Renewals {uuid.uuid4().hex[:6]}"
    campaign_name = f"Spring renewals {uuid.uuid4().hex[:4]}"
    upload = tmp_path / "renewals.csv"
    good, bad_lines = sample_csv(upload)

    # Sign in: the secret is used once and kept nowhere.
    shots.take("01-sign-in")
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#who", tenant.bot)
    assert tenant.client_secret not in console.storage()
    assert tenant.client_secret not in console.driver.page_source

    # Create a list.
    console.fill("New list name", list_name)
    console.click("Create list")
    console.wait_text("#status", f"Contact list {list_name} created successfully")
    row = console.wait_text("#lists tbody tr", list_name)
    assert "Ready" in row

    # Its page; upload a CSV whose header needs mapping, with bad rows.
    console.wait(lambda d: d.find_element("link text", list_name).click() or True)
    console.wait_text("h1", list_name)
    console.fill("CSV file (or gzip)", str(upload))
    preview = console.wait_text("#preview-rows", "Mobile")
    assert "(212) 555-0000" in preview
    assert "Ann4" in preview
    assert len(console.all("#preview-rows tbody tr")) == 5
    console.fill("phoneNumber", "Mobile")
    console.fill("firstName", "Given name")
    console.fill("lastName", "Family name")
    shots.take("03-upload-preview")
    console.click("Start import")

    # Progress reaches the end; the row errors are the bad lines.
    console.wait(
        lambda d: console.attribute("#job-facts", "data-state") == "completed",
        "the import did not complete",
    )
    facts = console.text("#job-facts")
    assert f"{ROWS:,} of {ROWS:,}" in facts
    inserted = console.text('#job-facts [data-fact="Inserted"]')
    invalid = console.text('#job-facts [data-fact="Invalid"]')
    assert (inserted, invalid) == (f"{len(good):,}", f"{len(bad_lines):,}")
    error_lines = [int(td.text) for td in console.all("#row-errors tbody td:first-child")]
    assert error_lines == bad_lines
    assert "not-a-number-199" in console.text("#row-errors")
    console.wait_text('[data-fact="Contacts"]', f"{len(good):,}")
    shots.take("04-import-done")
    downloads: Path = console.driver.downloads
    before = set(downloads.glob("*.csv"))
    console.click("Download row errors (CSV)")
    errors_csv: Path = console.wait(
        lambda d: next(iter(set(downloads.glob("*.csv")) - before), None),
        "the row errors were not downloaded",
    )
    error_rows = list(csv.DictReader(io.StringIO(errors_csv.read_text())))
    assert [int(r["row"]) for r in error_rows] == bad_lines
    assert {r["code"] for r in error_rows} == {"invalid_phone_number"}
    console.wait_text("#zones-chart", "America/New_York")
    zone_counts = [int(td.text.replace(",", "")) for td in console.all("#zones-chart td.num")]
    assert sum(zone_counts) == len(good)
    assert len(zone_counts) > 1
    shots.take("10-time-zones", at="#zones-chart")

    # Contacts, past the first page.
    console.wait_text("#contacts-range", f"Contacts 1–50 of {len(good):,}")
    first_page = console.text("#contacts tbody")
    assert good[0] in first_page
    assert good[49] in first_page
    assert "Ann0" in first_page
    console.click("Next", "#contacts ~ .pager")
    console.wait_text("#contacts-range", f"Contacts 51–100 of {len(good):,}")
    second_page = console.text("#contacts tbody")
    assert good[50] in second_page
    assert good[0] not in second_page
    assert "gold" in second_page  # the unmapped column, kept as a custom field
    shots.take("05-list-contacts", at="#contacts ~ .pager")

    # Export, and compare the download with the database.
    list_id = console.driver.current_url.rsplit("/", 1)[1]
    before = set(downloads.glob("*.csv"))
    console.click("Export CSV")
    exported: Path = console.wait(
        lambda d: next(iter(set(downloads.glob("*.csv")) - before), None),
        "the export was not downloaded",
    )
    rows = list(csv.DictReader(io.StringIO(exported.read_text())))
    in_database = database_rows(console_service.database_url, tenant.account_id, list_id)
    assert [(r["_id"], r["phoneNumber"], r["firstName"]) for r in rows] == in_database
    assert sorted(r["phoneNumber"] for r in rows) == sorted(good)

    # The import among the bot's jobs.
    console.open("#/jobs")
    job_row = console.wait_text("#jobs tbody tr", list_name)
    assert "upload" in job_row
    assert "completed" in job_row
    assert f"{ROWS:,} / {ROWS:,}" in job_row
    shots.take("09-jobs")

    # A campaign on the list.
    console.open("#/campaigns")
    console.fill("New campaign name", campaign_name)
    console.fill("Contact list", list_name)
    console.click("Create voice campaign")
    campaign_row = console.wait_text("#campaigns tbody tr", campaign_name)
    assert "Ready" in campaign_row
    assert list_name in campaign_row
    assert console.buttons("#campaigns tbody tr") == ["Start", "Delete"]
    console.click("Start", "#campaigns")
    console.wait_text("#campaigns tbody tr", "Active")
    assert console.buttons("#campaigns tbody tr") == ["Pause", "Stop"]  # no delete while Active
    shots.take("06-campaigns")
    console.click("Pause", "#campaigns")
    console.wait_text("#campaigns tbody tr", "Paused")
    assert console.buttons("#campaigns tbody tr") == ["Resume", "Delete"]

    # Deleting the list is refused, naming the campaign.
    console.open("#/lists")
    console.wait_text("#lists tbody tr", campaign_name)
    console.click("Delete", f'#lists tr[data-id="{list_id}"]')
    confirm = console.wait_text("#dialog", f"{len(good):,} contacts go with it")
    assert "restored" in confirm
    console.click("Delete", "#dialog")
    refusal = console.wait_text("#in-use", campaign_name)
    assert f"Contact list {list_name} is in use by campaign(s) {campaign_name}" in refusal
    assert "Detach and delete" in console.buttons("#dialog")
    shots.take("07-delete-refused")
    console.click("Cancel", "#dialog")

    # Delete the campaign, then the list.
    console.open("#/campaigns")
    console.click("Delete", "#campaigns")
    console.click("Delete", "#dialog")
    console.wait_text("#status", f"Campaign {campaign_name} deleted successfully")
    console.wait_text("#campaigns tbody", "No campaigns yet.")
    console.open("#/lists")
    console.click("Delete", f'#lists tr[data-id="{list_id}"]')
    console.click("Delete", "#dialog")
    console.wait_text("#status", f"Contact list {list_name} deleted successfully")
    console.wait_text("#lists tbody", "No lists yet.")

    # Find it in the trash and restore it with all its contacts.
    console.open("#/trash")
    trashed = console.wait_text("#trash tbody tr", list_name)
    assert f"{len(good):,}" in trashed
    assert "left" in trashed
    shots.take("08-trash")
    console.click("Restore", "#trash")
    console.wait_text("#status", f"Contact list {list_name} restored successfully")
    console.wait_text("#trash tbody", "The trash is empty.")
    console.open("#/lists")
    restored = console.wait_text("#lists tbody tr", list_name)
    assert f"{len(good):,}" in restored
    if shots.folder:
        sample_lists(tenant)
        console.driver.refresh()
        console.wait_text("#lists tbody", SAMPLE_LISTS[-1][0])
    shots.take("02-lists")
    assert len(database_rows(console_service.database_url, tenant.account_id, list_id)) == len(good)

    # Change its region and description; delete two contacts.
    console.click("Edit", f'#lists tr[data-id="{list_id}"]')
    console.fill("Default region (ISO 3166)", "GB")
    console.fill("Description", "Renewals due in spring")
    console.click("Save", "#dialog")
    console.wait_text("#status", f"Contact list {list_name} updated successfully")
    console.open(f"#/lists/{list_id}")
    console.wait_text('[data-fact="Region"]', "GB")
    assert "Renewals due in spring" in console.text("#view")
    console.wait_text("#contacts-range", "Contacts 1–50")
    for box in console.all("#contacts tbody input[type=checkbox]")[:2]:
        box.click()
    console.click("Delete selected")
    console.wait_text("#dialog", "Delete 2 contacts?")
    console.click("Delete", "#dialog")
    console.wait_text("#contacts-range", f"of {len(good) - 2:,}")
    assert good[0] not in console.text("#contacts tbody")
    left = database_rows(console_service.database_url, tenant.account_id, list_id)
    assert len(left) == len(good) - 2

    # The secret never reached the service's log.
    assert tenant.client_secret not in console_service.process.output
