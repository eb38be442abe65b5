"""getAllCampaignDetails (CONTRACT §5; notes §5.4): paging, sorting, filters and their checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.campaigns import (
    FULL_KEYS,
    CampaignPaths,
    assert_keys_in_order,
    create_campaign,
    get_all,
    sms_body,
    trigger,
    voice_body,
)
from tests.support.contacts import create_list
from tests.support.envelope import assert_validation_error
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

# Kore.ai's text, two spaces included.
MESSAGE = "Campaign  retrieved successfully"


async def page(client: AsyncClient, tenant: Tenant, family: str = "v2", **body: Any) -> Any:
    response = await get_all(client, tenant, body, family)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert list(reply) == ["status", "message", "data"]
    assert reply["status"] == "success"
    assert reply["message"] == MESSAGE
    data = reply["data"]
    assert list(data) == ["results", "skip", "limit", "hasMore", "totalPages", "totalResults"]
    return data


def names(data: Any) -> list[str]:
    return [item["name"] for item in data["results"]]


async def make_campaigns(
    client: AsyncClient, tenant: Tenant, specs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Voice campaigns, one per spec (name and overrides), created a few ms apart."""
    await create_list(client, tenant, "Calls")
    made = []
    for spec in specs:
        made.append(await create_campaign(client, tenant, voice_body(lists=["Calls"], **spec)))
        await asyncio.sleep(0.005)
    return made


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_pages_by_skip_or_page_with_totals(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    made = await make_campaigns(client, tenant, [{"name": f"C{i}"} for i in range(5)])
    await create_campaign(client, tenant, sms_body("A text campaign", ["Calls"]))
    newest_first = [item["name"] for item in reversed(made)]

    first = await page(client, tenant, family, type="voice", limit=2)
    last = await page(client, tenant, family, type="voice", limit=2, skip=4)
    second = await page(client, tenant, family, type="voice", limit=2, page=2)
    everything = await page(client, tenant, family, type="voice")
    empty_limit = await page(client, tenant, family, type="voice", limit="")
    beyond = await page(client, tenant, family, type="voice", skip=10)

    assert {key: first[key] for key in first if key != "results"} == {
        "skip": 0, "limit": 2, "hasMore": True, "totalPages": 3, "totalResults": 5,
    }  # fmt: skip
    assert names(first) == newest_first[:2]
    for item in first["results"]:
        assert_keys_in_order(item, FULL_KEYS)
    assert first["results"][0] == made[-1]
    assert names(second) == newest_first[2:4]
    assert second["skip"] == 2
    assert names(last) == newest_first[4:]
    assert last["hasMore"] is False
    assert names(everything) == newest_first
    assert everything["limit"] == 50
    assert empty_limit["limit"] == 50
    assert names(beyond) == []
    assert beyond["totalResults"] == 5
    assert beyond["hasMore"] is False
    texts = await page(client, tenant, family, type="sms")
    assert names(texts) == ["A text campaign"]
    assert texts["totalPages"] == 1


async def test_no_campaigns_is_an_empty_page(client: AsyncClient, tenant: Tenant) -> None:
    data = await page(client, tenant, type="voice")

    assert data == {
        "results": [], "skip": 0, "limit": 50, "hasMore": False, "totalPages": 0,
        "totalResults": 0,
    }  # fmt: skip


async def test_sorts_by_name_created_or_updated(client: AsyncClient, tenant: Tenant) -> None:
    made = await make_campaigns(
        client, tenant, [{"name": "bravo"}, {"name": "Alpha"}, {"name": "charlie"}]
    )
    # Touch the oldest: it becomes the most recently updated.
    updated = await client.put(
        CampaignPaths("v2", tenant.bot).campaign(made[0]["_id"]),
        params={"campaignType": "voice"},
        json=voice_body("bravo", ["Calls"], priority="1"),
        headers=tenant.headers(),
    )
    assert updated.status_code == 200, updated.text

    def sorted_by(key: str, direction: str) -> Any:
        return page(client, tenant, type="voice", sortBy={key: direction})

    # Names sort case-insensitively.
    assert names(await sorted_by("name", "asc")) == ["Alpha", "bravo", "charlie"]
    assert names(await sorted_by("name", "desc")) == ["charlie", "bravo", "Alpha"]
    assert names(await sorted_by("createdAt", "asc")) == ["bravo", "Alpha", "charlie"]
    assert names(await sorted_by("createdAt", "desc")) == ["charlie", "Alpha", "bravo"]
    assert names(await sorted_by("updatedAt", "desc")) == ["bravo", "charlie", "Alpha"]
    assert names(await sorted_by("updatedAt", "asc")) == ["Alpha", "charlie", "bravo"]
    # Without sortBy: the most recently updated first.
    assert names(await page(client, tenant, type="voice")) == ["bravo", "charlie", "Alpha"]


async def test_filters_by_status_priority_mode_and_creation_time(
    client: AsyncClient, tenant: Tenant
) -> None:
    made = await make_campaigns(
        client,
        tenant,
        [
            {"name": "Agentless 1", "mode": "Agentless", "priority": "1"},
            {"name": "Progressive 2", "mode": "Progressive", "priority": "2"},
            {"name": "Preview 2", "mode": "Preview", "priority": "2"},
            {"name": "Progressive 5", "mode": "Progressive", "priority": "5"},
        ],
    )
    assert (await trigger(client, tenant, made[1]["_id"], "play")).status_code == 200
    assert (await trigger(client, tenant, made[3]["_id"], "play")).status_code == 200
    assert (await trigger(client, tenant, made[3]["_id"], "pause")).status_code == 200
    order = {"name": "asc"}

    async def filtered(**filters: Any) -> list[str]:
        return names(await page(client, tenant, type="voice", sortBy=order, filters=filters))

    assert await filtered(status=["Active"]) == ["Progressive 2"]
    assert await filtered(status=["Active", "Paused"]) == ["Progressive 2", "Progressive 5"]
    assert await filtered(status=["Completed"]) == []
    assert await filtered(priority=["2"]) == ["Preview 2", "Progressive 2"]
    # Kore.ai's page shows priorities as numbers.
    assert await filtered(priority=[1, 5]) == ["Agentless 1", "Progressive 5"]
    assert await filtered(dialingMode=["Progressive"]) == ["Progressive 2", "Progressive 5"]
    assert await filtered(dialingMode=["Preview"], priority=["2"], status=["Ready"]) == [
        "Preview 2"
    ]
    assert await filtered(status=[], priority=[]) == []
    assert len(await filtered()) == 4

    second_created = made[1]["createdAt"]
    third_created = made[2]["createdAt"]
    window = await page(
        client, tenant, type="voice", sortBy=order, startDate=second_created, endDate=third_created
    )
    assert names(window) == ["Preview 2", "Progressive 2"]
    since = await page(client, tenant, type="voice", startDate=third_created)
    assert window["totalResults"] == 2
    assert sorted(names(since)) == ["Preview 2", "Progressive 5"]


async def test_other_bots_campaigns_are_not_listed(
    client: AsyncClient, tenant: Tenant, tenants: Any
) -> None:
    await make_campaigns(client, tenant, [{"name": "Mine"}])
    stranger = await tenants.create(bots=[tenant.bot])

    assert names(await page(client, stranger, type="voice")) == []


BAD_BODIES = [
    ({}, ["type"]),
    ({"type": "call"}, ["type"]),
    ({"type": "voice", "limit": 0}, ["limit"]),
    ({"type": "voice", "limit": 1001}, ["limit"]),
    ({"type": "voice", "limit": "ten"}, ["limit"]),
    ({"type": "voice", "skip": -1}, ["skip"]),
    ({"type": "voice", "page": 0}, ["page"]),
    ({"type": "voice", "sortBy": {"name": "up"}}, ["sortBy.name"]),
    ({"type": "voice", "sortBy": {"name": "asc", "createdAt": "desc"}}, ["sortBy"]),
    ({"type": "voice", "sortBy": "name"}, ["sortBy"]),
    ({"type": "voice", "filters": {"status": ["Running"]}}, ["filters.status.0"]),
    ({"type": "voice", "filters": {"priority": ["6"]}}, ["filters.priority.0"]),
    ({"type": "voice", "filters": {"dialingMode": ["Manual"]}}, ["filters.dialingMode.0"]),
    ({"type": "voice", "filters": {"status": "Active"}}, ["filters.status"]),
    ({"type": "voice", "startDate": "yesterday"}, ["startDate"]),
    (
        {"type": "voice", "startDate": "2026-02-01T00:00:00Z", "endDate": "2026-01-01T00:00:00Z"},
        ["startDate"],
    ),
    ({"limit": 0, "skip": -1}, ["type", "limit", "skip"]),
]


@pytest.mark.parametrize(("body", "fields"), BAD_BODIES)
async def test_bad_queries_are_400_naming_each_field(
    client: AsyncClient, tenant: Tenant, body: dict[str, Any], fields: list[str]
) -> None:
    assert_validation_error(await get_all(client, tenant, body), fields)


async def test_a_body_is_required(client: AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        CampaignPaths("v1", tenant.bot).get_all,
        content=b"",
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert_validation_error(response, ["body"])
