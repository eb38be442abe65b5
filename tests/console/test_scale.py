"""The console stays usable at size: 5,000 lists, and a list of 1,000,000 contacts.

Usable means the pages show one page of data, whatever the size: the lists table holds 50
rows and pages on to the last ones, the list page holds 50 contacts and pages on by cursor.
(The data is written with SQL, as an import would leave it: this is not a test of imports.)
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from contactlists.db.engine import create_engine, create_sessionmaker
from contactlists.models.lists import ContactList
from tests.console.conftest import ConsolePage
from tests.support.fill import fill_list
from tests.support.live import LiveService, LiveTenant, run_async

pytestmark = pytest.mark.serial

LISTS = 5_000
CONTACTS = 1_000_000
PAGE = 50


def copy_list(database_url: str, tenant: LiveTenant, source_id: str, copies: int) -> None:
    """``copies`` more lists like ``source_id``, named "Bulk 00001" onwards."""
    columns = [column.name for column in ContactList.__table__.columns]
    postgres = database_url.startswith("postgresql")
    number = "lpad(n::text, 5, '0')" if postgres else "printf('%05d', n)"
    list_id = "'cl-00000000-0000-4000-8000-' || " + (
        "lpad(n::text, 12, '0')" if postgres else "printf('%012d', n)"
    )
    changed = {"id": list_id, "name": f"'Bulk ' || {number}", "lname": f"'bulk ' || {number}"}
    series = (
        "generate_series(1, :copies) AS n"
        if postgres
        else "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :copies)"
        " SELECT n FROM g)"
    )
    statement = text(
        f"INSERT INTO contact_list ({', '.join(columns)}) "
        f"SELECT {', '.join(changed.get(name, name) for name in columns)} "
        f"FROM contact_list, {series} "
        "WHERE account_id = :account_id AND id = :source_id"
    )

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                await session.execute(
                    statement,
                    {"copies": copies, "account_id": tenant.account_id, "source_id": source_id},
                )
        finally:
            await engine.dispose()

    run_async(run())


def fill(database_url: str, tenant: LiveTenant, list_id: str, count: int) -> None:
    async def run() -> None:
        engine = create_engine(database_url)
        try:
            await fill_list(create_sessionmaker(engine), tenant.account_id, list_id, count)
        finally:
            await engine.dispose()

    run_async(run())


def test_five_thousand_lists_and_a_million_contacts(
    console: ConsolePage, console_service: LiveService
) -> None:
    tenant = console_service.tenant()
    big_name = f"Big {uuid.uuid4().hex[:6]}"
    with tenant.client() as sdk:
        big = sdk.lists.create(big_name)
        template = sdk.lists.create("Template")
    copy_list(console_service.database_url, tenant, template.id, LISTS - 2)
    fill(console_service.database_url, tenant, big.id, CONTACTS)

    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#lists tbody tr", "Bulk")
    assert len(console.all("#lists tbody tr")) == PAGE
    console.fill("Search lists", "Bulk 04998")
    console.click("Search")
    console.wait_text("#lists tbody tr", "Bulk 04998")
    assert len(console.all("#lists tbody tr")) == 1
    console.fill("Search lists", big_name)
    console.click("Search")
    row = console.wait_text("#lists tbody tr", big_name)
    assert f"{CONTACTS:,}" in row

    console.open(f"#/lists/{big.id}")
    console.wait_text("#contacts-range", f"Contacts 1–50 of {CONTACTS:,}")
    assert len(console.all("#contacts tbody tr")) == PAGE
    for first in (51, 101, 151):
        console.click("Next", "#contacts ~ .pager")
        console.wait_text("#contacts-range", f"Contacts {first}–{first + PAGE - 1} of")
    assert "+12122000151" in console.text("#contacts tbody")
    assert len(console.all("#contacts tbody tr")) == PAGE
