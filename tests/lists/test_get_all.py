"""Get All Contact Lists (CONTRACT §4.3): filters, order, paging and search.

Every test works in a fresh tenant, so get-all shows exactly the lists the test made.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from contactlists.lists.dnc import DEFAULT_DNC_NAME as DEFAULT_DNC
from contactlists.models.lists import ContactList
from tests.support.list_wire import (
    create_list,
    get_all,
    get_list,
    newest_first,
    summary_keys,
)
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

# Long enough that consecutive writes get distinct millisecond timestamps.
TICK = 0.003


async def create_in_order(
    client: AsyncClient, tenant: Tenant, bodies: list[dict[str, Any]], family: str = "v1"
) -> list[dict[str, Any]]:
    """Create one list per body, one after another, each with a later updatedAt."""
    created = []
    for body in bodies:
        created.append(await create_list(client, tenant, family, **body))
        await asyncio.sleep(TICK)
    return created


async def create_many(client: AsyncClient, tenant: Tenant, count: int) -> set[str]:
    """``count`` lists, created concurrently in small batches; their ids."""
    ids: set[str] = set()
    for start in range(0, count, 15):
        batch = await asyncio.gather(
            *(
                create_list(client, tenant, "v1", name=f"Bulk {number:04d}")
                for number in range(start, min(start + 15, count))
            )
        )
        ids.update(item["_id"] for item in batch)
    assert len(ids) == count
    return ids


def ids_of(items: list[dict[str, Any]]) -> list[str]:
    return [item["_id"] for item in items]


async def assert_bad_query(client: AsyncClient, tenant: Tenant, field: str, **params: Any) -> None:
    response = await client.get(
        Paths("v1", tenant.bot).get_all, params=params, headers=tenant.headers()
    )
    assert response.status_code == 400, (params, response.text)
    body = response.json()
    assert body["status"] == "failure"
    assert [(e["code"], e["reason"], e["field"]) for e in body["errors"]] == [
        (400, "validation_error", field)
    ]


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_type_filters_on_list_type_and_defaults_to_call_and_sms(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    created = await create_in_order(
        client,
        tenant,
        [
            {"name": "Call 1"},
            {"name": "Sms 1", "listType": "sms"},
            {"name": "Call 2", "listType": "call"},
            {"name": "Sms 2", "listType": "sms"},
            {"name": "Call 3"},
        ],
        family,
    )
    newest = list(reversed(created))
    calls = [item["_id"] for item in newest if item["name"].startswith("Call")]
    texts = [item["_id"] for item in newest if item["name"].startswith("Sms")]

    everything = await get_all(client, tenant, family)
    assert ids_of(everything) == ids_of(newest)
    assert [item["listType"] for item in everything] == ["call", "sms", "call", "sms", "call"]
    assert ids_of(await get_all(client, tenant, family, type="call")) == calls
    assert ids_of(await get_all(client, tenant, family, type="sms")) == texts
    # The only DNC list is the bot's own, made on first use (CONTRACT §5).
    dnc_lists = await get_all(client, tenant, family, type="dnc")
    assert [(item["name"], item["listType"]) for item in dnc_lists] == [(DEFAULT_DNC, "dnc")]
    await assert_bad_query(client, tenant, "type", type="email")


async def test_dnc_lists_are_shown_only_when_asked_for(
    client: AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    call, dnc, sms = await create_in_order(
        client,
        tenant,
        [{"name": "A call list"}, {"name": "Do not call"}, {"name": "Texts", "listType": "sms"}],
    )
    # DNC lists cannot be made over this API yet; turn one list into one in the database.
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(ContactList)
            .where(ContactList.account_id == tenant.account_id, ContactList.id == dnc["_id"])
            .values(list_type="dnc")
        )

    assert ids_of(await get_all(client, tenant)) == [sms["_id"], call["_id"]]
    assert ids_of(await get_all(client, tenant, type="call")) == [call["_id"]]
    only_dnc = await get_all(client, tenant, type="dnc")
    # Newest first: the bot's Default Global DNC list is made by this first request for DNC lists.
    assert [(item["name"], item["listType"]) for item in only_dnc] == [
        (DEFAULT_DNC, "dnc"),
        (dnc["name"], "dnc"),
    ]


async def test_equal_updated_at_is_ordered_by_id(
    client: AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    created = await create_in_order(client, tenant, [{"name": f"Tied {n}"} for n in range(8)])
    later, tied = created[:2], created[2:]
    tie = datetime(2025, 6, 26, 12, 38, 25, 793000, tzinfo=UTC)
    async with app.state.sessionmaker() as session, session.begin():
        for items, when in ((tied, tie), (later, tie + timedelta(milliseconds=1))):
            await session.execute(
                update(ContactList)
                .where(
                    ContactList.account_id == tenant.account_id,
                    ContactList.id.in_(ids_of(items)),
                )
                .values(updated_at=when)
            )

    listed = await get_all(client, tenant)

    assert ids_of(listed) == sorted(ids_of(later)) + sorted(ids_of(tied))
    assert {item["updatedAt"] for item in listed[2:]} == {"2025-06-26T12:38:25.793Z"}
    assert {item["updatedAt"] for item in listed[:2]} == {"2025-06-26T12:38:25.794Z"}


async def test_every_list_is_returned_without_paging_parameters(
    client: AsyncClient, tenant: Tenant
) -> None:
    # More than any plausible default page size (50, 100).
    ids = await create_many(client, tenant, 105)

    for method in ("GET", "POST"):
        listed = await get_all(client, tenant, method=method)

        assert len(listed) == 105, method
        assert set(ids_of(listed)) == ids
        assert listed == newest_first(listed)


async def test_skip_and_limit_page_through_every_list_once_in_order(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_many(client, tenant, 23)
    everything = ids_of(await get_all(client, tenant))
    assert len(everything) == 23

    for limit in (1, 4, 10, 23, 1000):
        pages: list[list[str]] = []
        skip = 0
        while True:
            page = ids_of(await get_all(client, tenant, skip=skip, limit=limit))
            if not page:
                break
            assert len(page) <= limit
            pages.append(page)
            skip += limit
        assert [item for page in pages for item in page] == everything, limit
        assert len(pages) == -(-23 // limit)

    assert ids_of(await get_all(client, tenant, skip=20)) == everything[20:]
    assert ids_of(await get_all(client, tenant, limit=5)) == everything[:5]
    assert ids_of(await get_all(client, tenant, skip=7, limit=3, method="POST")) == everything[7:10]
    assert await get_all(client, tenant, skip=23) == []
    assert await get_all(client, tenant, skip=1000, limit=10) == []


async def test_limit_must_be_1_to_1000_and_skip_not_negative(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_many(client, tenant, 3)

    assert len(await get_all(client, tenant, limit=1)) == 1
    assert len(await get_all(client, tenant, limit=1000)) == 3
    assert len(await get_all(client, tenant, skip=0)) == 3
    for bad in (0, 1001, -1, "ten"):
        await assert_bad_query(client, tenant, "limit", limit=bad)
    for bad in (-1, "one"):
        await assert_bad_query(client, tenant, "skip", skip=bad)


async def test_search_is_a_case_insensitive_name_substring_with_literal_wildcards(
    client: AsyncClient, tenant: Tenant
) -> None:
    names = [
        "Renewal Due - August",
        "late RENEWALS",
        "Renewal texts",
        "100% sure",
        "100 percent",
        "a_b",
        "axb",
        "x/y",
        "back\\slash",
        "Ärzte Liste",
    ]
    bodies: list[dict[str, Any]] = [{"name": name} for name in names]
    bodies[2]["listType"] = "sms"
    await create_in_order(client, tenant, bodies)

    async def search(term: str, **params: Any) -> list[str]:
        found = await get_all(client, tenant, search=term, **params)
        assert found == newest_first(found)
        return [item["name"] for item in found]

    renewals = ["Renewal texts", "late RENEWALS", "Renewal Due - August"]
    assert await search("renewal") == renewals
    assert await search("RENEWAL") == renewals
    assert await search("rEnEwAl") == renewals
    assert await search("newal d") == ["Renewal Due - August"]
    assert await search("renewal", type="call") == ["late RENEWALS", "Renewal Due - August"]
    assert await search("renewal", type="sms") == ["Renewal texts"]
    assert await search("renewal", skip=1, limit=1) == ["late RENEWALS"]
    assert await search("%") == ["100% sure"]
    assert await search("0%") == ["100% sure"]
    assert await search("100%") == ["100% sure"]
    assert await search("_") == ["a_b"]
    assert await search("a_b") == ["a_b"]
    assert await search("A_B") == ["a_b"]
    assert await search("/") == ["x/y"]
    assert await search("\\") == ["back\\slash"]
    assert await search("ärzte") == ["Ärzte Liste"]
    assert await search("ÄRZTE") == ["Ärzte Liste"]
    assert await search("not there") == []


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_get_and_post_answer_alike_with_the_family_summary_keys(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_in_order(
        client,
        tenant,
        [
            {"name": "Alpha", "description": "first", "allowDuplicates": True},
            {"name": "Beta", "listType": "sms", "source": "passiveApiIntegration"},
            {"name": "Gamma"},
        ],
        family,
    )
    paths = Paths(family, tenant.bot)

    for params in ({}, {"type": "call"}, {"type": "sms"}, {"search": "a"}, {"skip": 1, "limit": 1}):
        by_get = await client.get(paths.get_all, params=params, headers=tenant.headers())
        by_post = await client.post(paths.get_all, params=params, headers=tenant.headers())
        assert by_get.status_code == by_post.status_code == 200
        assert by_get.json() == by_post.json(), params
        assert by_get.json()["data"], params

    listed = await get_all(client, tenant, family)
    assert [item["name"] for item in listed] == ["Gamma", "Beta", "Alpha"]
    expected_keys = summary_keys(family)
    mapping_keys = ["firstName", "lastName", "phoneNumber", "timeZone", "uniqueId"]
    if family == "v2":
        mapping_keys.append("contactPriority")
    for item in listed:
        assert list(item) == expected_keys
        assert list(item["mapping"]) == mapping_keys
        # A summary is the full list cut down to the summary keys.
        full = (await get_list(client, tenant, item["_id"], family)).json()["data"]
        assert item == {key: full[key] for key in expected_keys}
    alpha, beta = listed[2], listed[1]
    assert alpha["apiConfigurations"] == {"dataSyncMode": "allowDuplicates"}
    assert (beta["listType"], beta["source"]) == ("sms", "passiveApiIntegration")


async def test_updating_a_list_moves_it_to_the_front(client: AsyncClient, tenant: Tenant) -> None:
    first, second, third = await create_in_order(
        client, tenant, [{"name": "First"}, {"name": "Second"}, {"name": "Third"}]
    )
    paths = Paths("v1", tenant.bot)

    async def order() -> list[str]:
        v1 = ids_of(await get_all(client, tenant, "v1"))
        assert ids_of(await get_all(client, tenant, "v2")) == v1
        return v1

    async def put(list_id: str, body: dict[str, Any]) -> None:
        response = await client.put(paths.list(list_id), json=body, headers=tenant.headers())
        assert response.status_code == 200, response.text
        await asyncio.sleep(TICK)

    assert await order() == [third["_id"], second["_id"], first["_id"]]

    await put(first["_id"], {"description": "touched"})
    assert await order() == [first["_id"], third["_id"], second["_id"]]

    await put(second["_id"], {"name": "Second, renamed"})
    assert await order() == [second["_id"], first["_id"], third["_id"]]
    listed = await get_all(client, tenant)
    assert listed[0]["name"] == "Second, renamed"
    assert listed[0]["updatedAt"] > listed[1]["updatedAt"] > listed[2]["updatedAt"]

    # An empty update changes nothing, so it does not move the list either.
    await put(third["_id"], {})
    assert await order() == [second["_id"], first["_id"], third["_id"]]
