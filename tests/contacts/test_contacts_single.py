"""Single contacts and bulk delete (CONTRACT §4.8): get, update, delete, delete by ids."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

from contactlists.apps import service as apps
from tests.support.contacts import add_contacts, all_contacts, create_list, get_list
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
FAMILIES = ["v1", "v2"]
CONTACT_KEYS = [
    "_id", "phoneNumber", "firstName", "lastName", "timeZone", "uniqueId", "contactPriority",
    "fields", "createdAt", "updatedAt", "phoneVerified",
]  # fmt: skip

ITEMS: list[dict[str, Any]] = [
    {"phoneNumber": "+12125550100", "firstName": "Ann", "lastName": "Ames", "email": "a@x.io"},
    {"phoneNumber": "+12125550101", "firstName": "Bo", "timeZone": "America/Chicago"},
    {"phoneNumber": "+12125550102", "uniqueId": "u-3", "contactPriority": "2"},
]


def contacts_url(tenant: Tenant, list_id: str, family: str = "v1") -> str:
    return f"{Paths(family, tenant.bot).list(list_id)}/contacts"


def contact_url(tenant: Tenant, list_id: str, contact_id: str, family: str = "v1") -> str:
    return f"{contacts_url(tenant, list_id, family)}/{contact_id}"


async def seeded_list(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    name: str,
    items: list[dict[str, Any]] = ITEMS,
    **list_fields: Any,
) -> tuple[str, list[dict[str, Any]]]:
    """A new list holding ``items``: its id and its contacts in insertion order."""
    created = await create_list(client, tenant, name, **list_fields)
    await add_contacts(client, tenant, name, items)
    await run_jobs()
    stored = await all_contacts(client, tenant, created["_id"])
    assert len(stored) == len(items)
    return created["_id"], stored


async def state(client: AsyncClient, tenant: Tenant, list_id: str) -> tuple[Any, ...]:
    """What a change would show: the list's count, columns and updatedAt, and its contacts."""
    listed = await get_list(client, tenant, list_id)
    contacts = await all_contacts(client, tenant, list_id)
    return listed["totalRecordCount"], listed["columns"], listed["updatedAt"], contacts


async def bulk_delete(
    client: AsyncClient, tenant: Tenant, list_id: str, body: Any, family: str = "v1"
) -> Response:
    return await client.post(
        f"{contacts_url(tenant, list_id, family)}/delete", json=body, headers=tenant.headers()
    )


async def put(
    client: AsyncClient, tenant: Tenant, list_id: str, contact_id: str, body: Any
) -> Response:
    return await client.put(
        contact_url(tenant, list_id, contact_id), json=body, headers=tenant.headers()
    )


# ---------------------------------------------------------------- get


@pytest.mark.parametrize("family", FAMILIES)
async def test_get_answers_the_contact_as_listed(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str, family: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    response = await client.get(
        contact_url(tenant, list_id, stored[0]["_id"], family), headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "message": "", "data": stored[0]}
    assert list(response.json()["data"]) == CONTACT_KEYS


# ---------------------------------------------------------------- update


@pytest.mark.parametrize("family", FAMILIES)
async def test_update_merges_the_fields_and_keeps_the_identity(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str, family: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    before = stored[0]
    await asyncio.sleep(0.002)  # timestamps have millisecond precision

    response = await client.put(
        contact_url(tenant, list_id, before["_id"], family),
        json={"firstName": " Zed ", "lastName": None, "email": None, "tier": 3, "uniqueId": 42},
        headers=tenant.headers(),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["message"]) == (
        "success",
        f"Contact {before['_id']} updated successfully",
    )
    after = body["data"]
    assert after == {
        **before,
        "firstName": "Zed",
        "lastName": None,
        "uniqueId": "42",
        "fields": {"tier": "3"},
        "updatedAt": after["updatedAt"],
    }
    assert after["updatedAt"] > before["updatedAt"]
    assert (await all_contacts(client, tenant, list_id)) == [after, *stored[1:]]
    listed = await get_list(client, tenant, list_id)
    assert (listed["totalRecordCount"], listed["columns"]) == (3, ["email", "tier"])


async def test_a_new_number_is_normalised_with_the_list_region_and_brings_its_zone(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name, defaultRegion="GB")
    derived, chosen = stored[0], stored[1]
    assert (derived["timeZone"], chosen["timeZone"]) == ("America/New_York", "America/Chicago")

    moved = await put(client, tenant, list_id, derived["_id"], {"phoneNumber": "020 7946 0000"})
    kept = await put(client, tenant, list_id, chosen["_id"], {"phoneNumber": "+442079460001"})

    assert moved.status_code == kept.status_code == 200, (moved.text, kept.text)
    assert moved.json()["data"]["phoneNumber"] == "+442079460000"
    # A zone derived from the old number follows the new one; a zone given explicitly stays.
    assert moved.json()["data"]["timeZone"] == "Europe/London"
    assert kept.json()["data"]["timeZone"] == "America/Chicago"


async def test_an_update_that_changes_nothing_writes_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    before = await state(client, tenant, list_id)
    for body in ({}, {"phoneNumber": "(212) 555-0100", "firstName": "Ann", "gone": None}):
        response = await put(client, tenant, list_id, stored[0]["_id"], body)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == stored[0]
    empty = await client.put(
        contact_url(tenant, list_id, stored[0]["_id"]), content=b"", headers=tenant.headers()
    )
    assert empty.status_code == 200, empty.text
    assert await state(client, tenant, list_id) == before


INVALID_UPDATES: list[tuple[Any, str]] = [
    ({"phoneNumber": "12345"}, "phoneNumber"),
    ({"phoneNumber": None}, "phoneNumber"),
    ({"phoneNumber": True}, "phoneNumber"),
    ({"timeZone": "Mars/Olympus"}, "timeZone"),
    ({"timeZone": 5}, "timeZone"),
    ({"firstName": {"nested": 1}}, "firstName"),
    ({"contactPriority": "x" * 301}, "contactPriority"),
    ({"tier": ["gold"], "firstName": "ok"}, "tier"),
    ({"bad\u0000name": "x"}, "bad\ufffdname"),
    (["phoneNumber"], "body"),
]


async def test_an_invalid_update_is_400_naming_the_field_and_changes_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    before = await state(client, tenant, list_id)
    for body, field in INVALID_UPDATES:
        response = await put(client, tenant, list_id, stored[0]["_id"], body)
        assert_validation_error(response, [field])
    assert await state(client, tenant, list_id) == before


async def test_a_number_of_another_contact_is_409_and_changes_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    before = await state(client, tenant, list_id)
    response = await put(
        client, tenant, list_id, stored[0]["_id"], {"phoneNumber": "(212) 555-0101", "x": "1"}
    )
    errors = assert_failure(response, 409, "duplicate_name")
    assert "+12125550101 is already in the list" in errors[0]["msg"]
    assert await state(client, tenant, list_id) == before


async def test_a_list_that_allows_duplicates_accepts_a_taken_number(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name, allowDuplicates=True)
    response = await put(client, tenant, list_id, stored[0]["_id"], {"phoneNumber": "2125550101"})
    assert response.status_code == 200, response.text
    phones = [c["phoneNumber"] for c in await all_contacts(client, tenant, list_id)]
    assert phones == ["+12125550101", "+12125550101", "+12125550102"]


# ---------------------------------------------------------------- delete


@pytest.mark.parametrize("family", FAMILIES)
async def test_delete_answers_the_contact_as_it_was_and_counts_it_out(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str, family: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    url = contact_url(tenant, list_id, stored[1]["_id"], family)

    response = await client.delete(url, headers=tenant.headers())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "success",
        "message": f"Contact {stored[1]['_id']} deleted successfully",
        "data": stored[1],
    }
    assert_failure(await client.get(url, headers=tenant.headers()), 404, "not_found")
    assert_failure(await client.delete(url, headers=tenant.headers()), 404, "not_found")
    assert await all_contacts(client, tenant, list_id) == [stored[0], stored[2]]
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 2


@pytest.mark.parametrize("family", FAMILIES)
async def test_bulk_delete_deletes_the_lists_own_ids_and_names_the_rest(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: RunJobs,
    unique_name: str,
    family: str,
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    other_id, others = await seeded_list(client, tenant, run_jobs, f"{unique_name} B", ITEMS[:1])
    stranger = await tenants.create()
    foreign_id, foreign = await seeded_list(client, stranger, run_jobs, unique_name, ITEMS[:1])
    ids = [
        stored[0]["_id"],
        "cc-00000000-0000-4000-8000-000000000000",
        others[0]["_id"],
        foreign[0]["_id"],
        stored[2]["_id"],
        stored[0]["_id"],
        "cc-\u0000",
        "",
        "cc-00000000-0000-4000-8000-000000000000",
    ]

    response = await bulk_delete(client, tenant, list_id, {"ids": ids}, family)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "success",
        "message": "2 contacts deleted",
        "data": {"deleted": 2, "notFound": [ids[1], ids[2], ids[3], ids[6], ids[7]]},
    }
    assert await all_contacts(client, tenant, list_id) == [stored[1]]
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 1
    assert (await get_list(client, tenant, other_id))["totalRecordCount"] == 1
    assert await all_contacts(client, stranger, foreign_id) == foreign

    again = await bulk_delete(client, tenant, list_id, {"ids": ids[:1]}, family)
    assert again.json()["data"] == {"deleted": 0, "notFound": ids[:1]}
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 1


async def test_bulk_delete_accepts_ten_thousand_ids(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    unknown = [f"cc-{n:036d}" for n in range(9_998)]
    response = await bulk_delete(
        client, tenant, list_id, {"ids": [stored[0]["_id"], *unknown, stored[1]["_id"]]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"deleted": 2, "notFound": unknown}
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 1


async def test_bulk_delete_outside_the_limits_is_400_and_deletes_nothing(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name, ITEMS[:1])
    real = stored[0]["_id"]
    cases: list[tuple[Any, str]] = [
        ({"ids": []}, "ids"),
        ({"ids": [real, *(f"cc-{n}" for n in range(10_000))]}, "ids"),
        ({"ids": [real, 5]}, "ids.1"),
        ({"ids": [None, real]}, "ids.0"),
        ({"ids": real}, "ids"),
        ({"id": [real]}, "ids"),
    ]
    before = await state(client, tenant, list_id)
    for body, field in cases:
        assert_validation_error(await bulk_delete(client, tenant, list_id, body), [field])
    assert await state(client, tenant, list_id) == before


# ---------------------------------------------------------------- who may see what


async def test_another_account_or_bot_gets_404_and_nothing_changes(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    contact_id = stored[0]["_id"]
    before = await state(client, tenant, list_id)
    other_account = await tenants.create(bots=[tenant.bot])
    other_bot = await tenants.create(account_id=tenant.account_id)

    for intruder in (other_account, other_bot):
        url = contact_url(intruder, list_id, contact_id)
        headers = intruder.headers()
        for response in (
            await client.get(url, headers=headers),
            await client.put(url, json={"firstName": "Mallory"}, headers=headers),
            await client.delete(url, headers=headers),
            await bulk_delete(client, intruder, list_id, {"ids": [contact_id]}),
        ):
            assert_failure(response, 404, "not_found")

    assert await state(client, tenant, list_id) == before


async def test_a_contact_of_another_list_or_of_a_deleted_list_is_404(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, _ = await seeded_list(client, tenant, run_jobs, unique_name, ITEMS[:1])
    other_id, others = await seeded_list(client, tenant, run_jobs, f"{unique_name} B", ITEMS[1:])
    before = await state(client, tenant, other_id)
    url = contact_url(tenant, list_id, others[0]["_id"])
    for response in (
        await client.get(url, headers=tenant.headers()),
        await client.put(url, json={"firstName": "Moved"}, headers=tenant.headers()),
        await client.delete(url, headers=tenant.headers()),
    ):
        assert_failure(response, 404, "not_found")
    assert await state(client, tenant, other_id) == before

    await client.delete(Paths("v1", tenant.bot).list(other_id), headers=tenant.headers())
    gone = contact_url(tenant, other_id, others[0]["_id"])
    assert_failure(await client.get(gone, headers=tenant.headers()), 404, "not_found")
    assert_failure(await client.delete(gone, headers=tenant.headers()), 404, "not_found")


async def test_the_read_scope_can_get_but_not_change(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: RunJobs,
    unique_name: str,
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    reader = await tenants.create(
        account_id=tenant.account_id, bots=[tenant.bot], scopes=[apps.SCOPE_READ]
    )
    before = await state(client, tenant, list_id)
    url = contact_url(reader, list_id, stored[0]["_id"])

    got = await client.get(url, headers=reader.headers())
    assert got.status_code == 200, got.text
    assert got.json()["data"] == stored[0]
    for response in (
        await client.put(url, json={"firstName": "Nope"}, headers=reader.headers()),
        await client.delete(url, headers=reader.headers()),
        await bulk_delete(client, reader, list_id, {"ids": [stored[0]["_id"]]}),
    ):
        assert_failure(response, 403, "forbidden", code=4003)
    assert await state(client, tenant, list_id) == before


async def test_credentials_are_checked_before_the_body(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name, ITEMS[:1])
    url = contact_url(tenant, list_id, stored[0]["_id"])
    for response in (
        await client.put(url, content=b"{not json", headers={"iid": tenant.bot}),
        await client.post(f"{contacts_url(tenant, list_id)}/delete", content=b"[1]"),
    ):
        assert_failure(response, 401, "invalid_credentials", code=4002)


async def test_the_bulk_delete_path_is_not_a_contact_id(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    created = await create_list(client, tenant, unique_name)
    url = f"{contacts_url(tenant, created['_id'])}/delete"
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, url, headers=tenant.headers())
        assert_failure(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST"


# ---------------------------------------------------------------- concurrency


async def test_of_concurrent_deletes_of_one_contact_exactly_one_succeeds(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name)
    url = contact_url(tenant, list_id, stored[0]["_id"])
    responses = await asyncio.gather(
        *(client.delete(url, headers=tenant.headers()) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [200] + [404] * 7
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 2


async def test_concurrent_overlapping_bulk_deletes_keep_the_count_exact(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    items = [{"phoneNumber": f"+1212555{n:04d}"} for n in range(12)]
    list_id, stored = await seeded_list(client, tenant, run_jobs, unique_name, items)
    ids = [c["_id"] for c in stored]
    # Eight requests over the first ten contacts, each overlapping its neighbours.
    batches = [ids[n : n + 3] for n in range(8)]
    responses = await asyncio.gather(
        *(bulk_delete(client, tenant, list_id, {"ids": batch}) for batch in batches)
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sum(r.json()["data"]["deleted"] for r in responses) == 10
    assert await all_contacts(client, tenant, list_id) == stored[10:]
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == 2
