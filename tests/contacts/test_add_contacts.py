"""addContacts and the import job (CONTRACT §4.6): every row accounted for, exact counts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient

from contactlists.contacts.bulk import new_contact_ids
from tests.support.contacts import (
    ADD_CONTACTS,
    add_contacts,
    all_contacts,
    create_list,
    get_list,
    job,
)
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]

MIXED_ITEMS: list[Any] = [
    {"phoneNumber": "+1 212-555-0100", "firstName": "Ann", "email": "ann@example.com"},  # 1
    {"phoneNumber": "(212) 555-0101", "lastName": "Bo", "timeZone": "America/Chicago"},  # 2
    {"phoneNumber": "+12125550100", "firstName": "Ann again"},  # 3: duplicate of 1
    {"phoneNumber": "12345"},  # 4: invalid number
    {"phoneNumber": "+442079460000", "timeZone": "Mars/Olympus"},  # 5: bad zone
    {"firstName": "no phone"},  # 6: phone missing
    {"phoneNumber": "+44 20 7946 0001", "uniqueId": "u-7", "tier": "gold"},  # 7
    {"phoneNumber": "212.555.0101"},  # 8: duplicate of 2
]


async def test_mixed_items_store_the_valid_unique_ones_in_order(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name.upper(), MIXED_ITEMS)

    assert await run_jobs() == 1

    stored = await all_contacts(client, tenant, target["_id"])
    assert [c["phoneNumber"] for c in stored] == ["+12125550100", "+12125550101", "+442079460001"]
    ann, bo, london = stored
    assert (ann["firstName"], ann["fields"], ann["timeZone"]) == (
        "Ann",
        {"email": "ann@example.com"},
        "America/New_York",
    )
    assert (bo["lastName"], bo["timeZone"]) == ("Bo", "America/Chicago")
    assert (london["uniqueId"], london["fields"], london["timeZone"]) == (
        "u-7",
        {"tier": "gold"},
        "Europe/London",
    )
    assert all(c["_id"].startswith("cc-") for c in stored)

    report = await job(client, tenant, job_id)
    assert report["state"] == "completed"
    assert report["contactListId"] == target["_id"]
    assert (report["total"], report["processed"]) == (8, 8)
    assert (report["inserted"], report["duplicates"], report["invalid"]) == (3, 2, 3)
    assert [(e["row"], e["field"], e["code"]) for e in report["errors"]] == [
        (3, "phoneNumber", "duplicate"),
        (4, "phoneNumber", "invalid_phone_number"),
        (5, "timeZone", "invalid_time_zone"),
        (6, "phoneNumber", "required"),
        (8, "phoneNumber", "duplicate"),
    ]

    listed = await get_list(client, tenant, target["_id"])
    assert listed["totalRecordCount"] == 3
    assert listed["status"] == "Ready"
    assert listed["columns"] == ["email", "tier"]


async def test_allow_duplicates_keeps_every_valid_item(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name, allowDuplicates=True)
    job_id = await add_contacts(client, tenant, unique_name, MIXED_ITEMS)
    await run_jobs()

    report = await job(client, tenant, job_id)
    assert (report["inserted"], report["duplicates"], report["invalid"]) == (5, 0, 3)
    assert len(await all_contacts(client, tenant, target["_id"])) == 5
    assert (await get_list(client, tenant, target["_id"]))["totalRecordCount"] == 5


async def test_duplicates_are_judged_against_the_list_across_jobs(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])
    second = await add_contacts(
        client, tenant, unique_name, [{"phoneNumber": "2125550100"}, {"phoneNumber": "2125550102"}]
    )
    await run_jobs()

    report = await job(client, tenant, second)
    assert (report["inserted"], report["duplicates"]) == (1, 1)
    phones = [c["phoneNumber"] for c in await all_contacts(client, tenant, target["_id"])]
    assert phones == ["+12125550100", "+12125550102"]


async def test_the_list_is_processing_while_its_job_is_queued(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])

    assert (await get_list(client, tenant, target["_id"]))["status"] == "Validating"
    listed = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert [item["status"] for item in listed.json()["data"]] == ["Validating"]

    await run_jobs()
    assert (await get_list(client, tenant, target["_id"]))["status"] == "Ready"


async def test_the_list_region_reads_national_numbers(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name, defaultRegion="GB")
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": "020 7946 0000"}])
    await run_jobs()
    assert [c["phoneNumber"] for c in await all_contacts(client, tenant, target["_id"])] == [
        "+442079460000"
    ]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"contact_list_name": "x", "data": []}, ["data"]),
        ({"contact_list_name": "x"}, ["data"]),
        ({"data": [{"phoneNumber": "1"}]}, ["contact_list_name"]),
        ({"contact_list_name": "x", "data": [{"phoneNumber": "1"}, "not an object"]}, ["data.1"]),
        ({"contact_list_name": "x", "data": {"phoneNumber": "1"}}, ["data"]),
        ({"contact_list_name": 5, "data": [{"phoneNumber": "1"}]}, ["contact_list_name"]),
    ],
)
async def test_malformed_requests_are_400_and_queue_nothing(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    await create_list(client, tenant, "x")
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot), json=body, headers=tenant.headers()
    )
    assert_validation_error(response, fields)
    assert await run_jobs() == 0


async def test_an_oversized_batch_is_400_and_queues_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, settings: Any
) -> None:
    await create_list(client, tenant, "big")
    items = [{"phoneNumber": f"+1212555{n:04d}"} for n in range(settings.max_batch + 1)]
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": "big", "data": items},
        headers=tenant.headers(),
    )
    assert_validation_error(response, ["data"])
    assert await run_jobs() == 0


async def test_an_unknown_or_deleted_list_is_404_and_queues_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    await client.delete(Paths("v1", tenant.bot).list(target["_id"]), headers=tenant.headers())
    for name in ("never existed", unique_name):
        response = await client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": name, "data": [{"phoneNumber": "+12125550100"}]},
            headers=tenant.headers(),
        )
        assert_failure(response, 404, "not_found")
    assert await run_jobs() == 0


async def test_another_accounts_list_is_404(
    client: AsyncClient, tenant: Tenant, tenants: Any, run_jobs: RunJobs, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    stranger = await tenants.create(bots=[tenant.bot])
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": unique_name, "data": [{"phoneNumber": "+12125550100"}]},
        headers=stranger.headers(),
    )
    assert_failure(response, 404, "not_found")
    assert await run_jobs() == 0


async def test_paging_by_skip_and_by_cursor_returns_every_contact_once_in_order(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    phones = [f"+1212555{n:04d}" for n in range(1, 238)]
    await add_contacts(client, tenant, unique_name, [{"phoneNumber": p} for p in phones])
    await run_jobs()
    url = f"{Paths('v2', tenant.bot).list(target['_id'])}/getAllContacts"

    by_skip: list[str] = []
    for skip in range(0, 300, 40):
        response = await client.get(
            url, params={"skip": skip, "limit": 40}, headers=tenant.headers()
        )
        data = response.json()["data"]
        assert (data["totalResults"], data["totalPages"], data["limit"]) == (237, 6, 40)
        assert data["hasMore"] == (skip + 40 < 237)
        by_skip += [c["phoneNumber"] for c in data["results"]]
    assert by_skip == phones

    by_cursor: list[str] = []
    params: dict[str, Any] = {"limit": 50}
    while True:
        data = (await client.get(url, params=params, headers=tenant.headers())).json()["data"]
        by_cursor += [c["phoneNumber"] for c in data["results"]]
        if not data["hasMore"]:
            assert data["nextCursor"] is None
            break
        params["cursor"] = data["nextCursor"]
    assert by_cursor == phones


@pytest.mark.parametrize("cursor", ["garbage!", "cTEy", "cA", "", "x" * 65])
async def test_a_cursor_not_issued_by_the_service_is_400(
    client: AsyncClient, tenant: Tenant, unique_name: str, cursor: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    response = await client.get(
        f"{Paths('v1', tenant.bot).list(target['_id'])}/getAllContacts",
        params={"cursor": cursor},
        headers=tenant.headers(),
    )
    assert_validation_error(response, ["cursor"])


def test_contact_ids_are_uuid4_and_distinct() -> None:
    ids = new_contact_ids(5000)
    assert len(set(ids)) == 5000
    for contact_id in ids[:200]:
        parsed = uuid.UUID(contact_id.removeprefix("cc-"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert contact_id == f"cc-{parsed}"
