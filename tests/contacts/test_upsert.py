"""Upsert on re-import: onDuplicate "update" overwrites exactly the matched contacts' given
fields, by the list's dedupe key, and counts inserted / updated / invalid / duplicates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from contactlists.config import Settings
from contactlists.contacts import bulk
from contactlists.contacts.normalise import normalise_rows
from tests.support.contacts import ADD_CONTACTS, add_contacts, create_list, get_list, job
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.snapshots import record_count, stored_contacts
from tests.support.tenants import Tenant
from tests.support.uploads import csv_bytes, upload, upload_ok

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
BATCH = 3  # rows per import transaction: every import below spans several batches


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_batch_rows": BATCH})


def number(n: int) -> str:
    return f"+1212555{n:04d}"


FIRST = [
    {"phoneNumber": number(n), "firstName": f"F{n}", "lastName": f"L{n}", "tier": f"t{n}"}
    for n in range(8)
]


def changed(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
) -> dict[int, set[str]]:
    """For each contact present before, the columns whose value differs after."""
    return {
        position: {name for name, value in row.items() if after[position][name] != value}
        for position, row in before.items()
    }


async def test_update_overwrites_exactly_the_given_fields_of_the_matched_contacts(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    first = await add_contacts(client, tenant, unique_name, FIRST)
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    items: list[Any] = [
        {"phoneNumber": number(1), "firstName": "New1"},  # 1: updates contact 1's first name
        {"phoneNumber": number(2), "tier": "gold", "color": "red"},  # 2: merges custom fields
        {"phoneNumber": number(100), "firstName": "Fresh"},  # 3: inserted
        {"phoneNumber": "bad"},  # 4: invalid
        {"phoneNumber": number(1), "firstName": "Later"},  # 5: same key again: first row won
        {"phoneNumber": number(5), "lastName": "  ", "timeZone": "America/Chicago"},  # 6
        {"phoneNumber": number(100), "firstName": "Again"},  # 7: a key this import inserted
    ]
    second = await add_contacts(client, tenant, unique_name, items, on_duplicate="update")
    await run_jobs()

    report = await job(client, tenant, second)
    assert report["state"] == "completed"
    counts = {k: report[k] for k in ("processed", "inserted", "updated", "invalid", "duplicates")}
    assert counts == {
        "processed": 7,
        "inserted": 1,
        "updated": 3,
        "invalid": 1,
        "duplicates": 2,
    }
    assert {(e["row"], e["code"]) for e in report["errors"]} == {
        (4, "invalid_phone_number"),
        (5, "duplicate"),
        (7, "duplicate"),
    }
    after = await stored_contacts(app, tenant.account_id, target["_id"])
    by_phone = {row["phone"]: row for row in after.values()}
    assert changed(before, after) == {
        1: set(),
        2: {"first_name", "first_key", "updated_at", "last_job_id"},
        3: {"fields", "updated_at", "last_job_id"},
        4: set(),
        5: set(),
        6: {"time_zone", "updated_at", "last_job_id"},
        7: set(),
        8: set(),
    }
    assert after[2]["first_name"] == "New1"
    assert after[2]["last_name"] == "L1"
    assert after[3]["fields"] == {"tier": "gold", "color": "red"}
    assert after[6]["time_zone"] == "America/Chicago"
    assert after[6]["last_name"] == "L5"
    assert {after[p]["last_job_id"] for p in (2, 3, 6)} == {second}
    assert {after[p]["import_job_id"] for p in (2, 3, 6)} == {first}
    fresh = by_phone[number(100)]
    assert (fresh["first_name"], fresh["import_job_id"]) == ("Fresh", second)
    assert len(after) == 9 == await record_count(app, tenant.account_id, target["_id"])
    assert "color" in (await get_list(client, tenant, target["_id"]))["columns"]
    # The search finds a contact by the name an update gave it, not by the one it replaced.
    url = f"{Paths('v2', tenant.bot).prefix}/contactList/{target['_id']}/getAllContacts"
    for prefix, phones in (("new", [number(1)]), ("f1", [])):
        found = await client.get(url, params={"search": prefix}, headers=tenant.headers())
        assert [c["phoneNumber"] for c in found.json()["data"]["results"]] == phones, prefix


async def test_skip_is_the_default_and_changes_no_contact(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, FIRST)
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    again = await add_contacts(
        client, tenant, unique_name, [{"phoneNumber": number(1), "firstName": "X"}]
    )
    await run_jobs()
    report = await job(client, tenant, again)
    assert (report["inserted"], report["updated"], report["duplicates"]) == (0, 0, 1)
    assert await stored_contacts(app, tenant.account_id, target["_id"]) == before


async def test_a_list_keyed_by_unique_id_matches_by_it_and_refuses_rows_without_one(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name, dedupeKey="uniqueId")
    assert target["dedupeKey"] == "uniqueId"
    assert (await get_list(client, tenant, target["_id"]))["dedupeKey"] == "uniqueId"
    first = await add_contacts(
        client,
        tenant,
        unique_name,
        [
            {"phoneNumber": number(1), "uniqueId": "u1", "firstName": "One"},
            {"phoneNumber": number(1), "uniqueId": "u2", "firstName": "Same number"},
            {"phoneNumber": number(3), "firstName": "No id"},
            {"phoneNumber": number(4), "uniqueId": "u1"},
        ],
    )
    await run_jobs()
    report = await job(client, tenant, first)
    assert (report["inserted"], report["invalid"], report["duplicates"]) == (2, 1, 1)
    assert [(e["row"], e["field"], e["code"]) for e in report["errors"]] == [
        (3, "uniqueId", "required"),
        (4, "uniqueId", "duplicate"),
    ]
    before = await stored_contacts(app, tenant.account_id, target["_id"])

    second = await add_contacts(
        client,
        tenant,
        unique_name,
        [
            {"phoneNumber": number(9), "uniqueId": "u2", "lastName": "Moved"},
            {"phoneNumber": number(1), "uniqueId": "u3"},
            {"phoneNumber": number(8)},
        ],
        on_duplicate="update",
    )
    await run_jobs()
    report = await job(client, tenant, second)
    counts = (report["inserted"], report["updated"], report["invalid"], report["duplicates"])
    assert counts == (1, 1, 1, 0)
    after = await stored_contacts(app, tenant.account_id, target["_id"])
    assert changed(before, after) == {
        1: set(),
        2: {"phone", "last_name", "last_key", "updated_at", "last_job_id"},
    }
    assert (after[2]["phone"], after[2]["first_name"]) == (number(9), "Same number")
    assert after[3]["unique_id"] == "u3"
    assert len(after) == 3 == await record_count(app, tenant.account_id, target["_id"])


async def test_an_upload_takes_on_duplicate_and_updates_across_batches(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, FIRST)
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    rows = [["phoneNumber", "firstName"]]
    rows += [[number(n), f"U{n}"] for n in range(0, 8, 2)]  # four updates, in two batches
    rows += [[number(2), "Late"], [number(50), "New"], [number(50), "Newer"]]
    job_id = await upload_ok(client, tenant, target["_id"], csv_bytes(rows), on_duplicate="update")
    await run_jobs()
    report = await job(client, tenant, job_id)
    assert (report["inserted"], report["updated"], report["duplicates"]) == (1, 4, 2)
    after = await stored_contacts(app, tenant.account_id, target["_id"])
    for position, row in before.items():
        n = position - 1
        expected = f"U{n}" if n % 2 == 0 else f"F{n}"
        assert after[position]["first_name"] == expected
        assert after[position]["fields"] == row["fields"]
    assert after[9]["first_name"] == "New"


async def test_on_duplicate_is_refused_unless_skip_or_update_and_on_lists_allowing_duplicates(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name, allowDuplicates=True)
    for value in ("replace", 1, None, "UPDATE"):
        response = await client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": unique_name, "data": [{"phoneNumber": number(1)}]}
            | {"onDuplicate": value},
            headers=tenant.headers(),
        )
        assert_validation_error(response, ["onDuplicate"])
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": unique_name, "data": [{"phoneNumber": number(1)}]}
        | {"onDuplicate": "update"},
        headers=tenant.headers(),
    )
    assert_validation_error(response, ["onDuplicate"])
    content = csv_bytes([["phoneNumber"], [number(1)]])
    for value in ("update", "merge"):
        refused = await upload(client, tenant, target["_id"], content, on_duplicate=value)
        assert_validation_error(refused, ["onDuplicate"])
    assert await run_jobs() == 0


async def test_the_dedupe_key_changes_only_while_the_list_is_empty(
    client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name)
    assert target["dedupeKey"] == "phoneNumber"
    url = Paths("v2", tenant.bot).list(target["_id"])
    response = await client.put(url, json={"dedupeKey": "uniqueId"}, headers=tenant.headers())
    assert response.status_code == 200, response.text
    assert (await get_list(client, tenant, target["_id"]))["dedupeKey"] == "uniqueId"
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": number(1), "uniqueId": "a"}])
    await run_jobs()
    response = await client.put(url, json={"dedupeKey": "phoneNumber"}, headers=tenant.headers())
    assert_failure(response, 409, "conflict")
    assert (await get_list(client, tenant, target["_id"]))["dedupeKey"] == "uniqueId"
    same = await client.put(url, json={"dedupeKey": "uniqueId"}, headers=tenant.headers())
    assert same.status_code == 200, same.text


async def test_a_contact_edited_by_hand_keeps_its_unique_id_its_own_on_a_unique_id_list(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, unique_name, dedupeKey="uniqueId")
    await add_contacts(
        client,
        tenant,
        unique_name,
        [{"phoneNumber": number(1), "uniqueId": "a"}, {"phoneNumber": number(2), "uniqueId": "b"}],
    )
    await run_jobs()
    before = await stored_contacts(app, tenant.account_id, target["_id"])
    url = f"{Paths('v2', tenant.bot).list(target['_id'])}/contacts/{before[2]['id']}"
    taken = await client.put(url, json={"uniqueId": "a"}, headers=tenant.headers())
    assert_failure(taken, 409, "duplicate_name")
    cleared = await client.put(url, json={"uniqueId": None}, headers=tenant.headers())
    assert_validation_error(cleared, ["uniqueId"])
    assert await stored_contacts(app, tenant.account_id, target["_id"]) == before
    # The number may repeat on a list keyed by uniqueId.
    same_number = await client.put(url, json={"phoneNumber": number(1)}, headers=tenant.headers())
    assert same_number.status_code == 200, same_number.text


async def test_a_later_row_of_an_import_loses_to_its_first_even_after_another_import_wrote(
    app: FastAPI, client: AsyncClient, tenant: Tenant, unique_name: str, run_jobs: RunJobs
) -> None:
    """Batches of two imports into one list interleave (each takes the list's lock in turn):
    the first import's later row for a contact the other import wrote since is a duplicate,
    not a second update (whose prior values it has already kept)."""
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": number(1), "firstName": "A"}])
    await run_jobs()
    # Two queued imports, for their job ids; their batches are stored here, in turns.
    first = await add_contacts(client, tenant, unique_name, [{"phoneNumber": number(9)}])
    other = await add_contacts(client, tenant, unique_name, [{"phoneNumber": number(9)}])
    sessions = app.state.sessionmaker

    async def batch(job_id: str, name: str) -> bulk.BatchOutcome:
        results = normalise_rows([(1, {"phoneNumber": number(1), "firstName": name})], "US")
        async with sessions() as session, session.begin():
            outcome = await bulk.store_batch(
                session,
                account_id=tenant.account_id,
                bot_id=tenant.bot,
                list_id=target["_id"],
                results=results,
                rules=bulk.ImportRules(job_id=job_id, on_duplicate="update"),
            )
        assert outcome is not None
        return outcome

    assert (await batch(first, "First")).updated == 1
    assert (await batch(other, "Other")).updated == 1
    later = await batch(first, "First again")
    assert (later.updated, later.duplicates) == (0, 1)
    (contact,) = (await stored_contacts(app, tenant.account_id, target["_id"])).values()
    assert (contact["first_name"], contact["last_job_id"]) == ("Other", other)
