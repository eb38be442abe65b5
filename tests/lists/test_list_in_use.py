"""Lists in use by campaigns (CONTRACT §3, §4.5): `campaignInUse` on every read, the delete
guard, `force=true`, and the Default Global DNC list among the DNC lists."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.campaigns import (
    DEFAULT_DNC,
    CampaignPaths,
    create_campaign,
    get_campaign,
    sms_body,
    voice_body,
)
from tests.support.envelope import assert_failure
from tests.support.list_wire import (
    assert_not_found,
    create_list,
    delete_list,
    get_all,
    get_list,
)
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

FAMILIES = ["v1", "v2"]


async def delete_campaign(client: AsyncClient, tenant: Tenant, campaign: dict[str, Any]) -> None:
    response = await client.delete(
        CampaignPaths("v2", tenant.bot).campaign(campaign["_id"]),
        params={"campaignType": campaign["campaignType"]},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text


def in_use(campaigns: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": campaign["_id"], "name": campaign["name"]} for campaign in campaigns]


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_list_used_by_a_campaign_is_not_deleted(
    client: AsyncClient, tenant: Tenant, unique_name: str, family: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    campaign = await create_campaign(
        client, tenant, voice_body(f"{unique_name} calls", [unique_name])
    )

    refused = await delete_list(client, tenant, target["_id"], family)
    [entry] = assert_failure(refused, 409, "list_in_use")
    expected = (
        f"Contact list {unique_name} is in use by campaign(s) {campaign['name']} "
        "and cannot be deleted"
    )
    assert refused.json()["message"] == expected
    assert entry["msg"] == expected
    assert entry["campaignInUse"] == in_use([campaign])
    # Nothing changed.
    assert (await get_list(client, tenant, target["_id"], family)).status_code == 200
    assert (await get_campaign(client, tenant, campaign["_id"]))["contactLists"] == [unique_name]

    await delete_campaign(client, tenant, campaign)
    deleted = await delete_list(client, tenant, target["_id"], family)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"]["campaignInUse"] == []
    assert_not_found(await get_list(client, tenant, target["_id"], family))


async def test_the_refusal_names_every_campaign_using_the_list(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    first = await create_campaign(client, tenant, voice_body(f"{unique_name} A", [unique_name]))
    second = await create_campaign(client, tenant, sms_body(f"{unique_name} B", [unique_name]))

    refused = await delete_list(client, tenant, target["_id"])
    [entry] = assert_failure(refused, 409, "list_in_use")
    assert f"campaign(s) {first['name']}, {second['name']} and" in entry["msg"]
    assert entry["campaignInUse"] == in_use([first, second])


@pytest.mark.parametrize("family", FAMILIES)
async def test_force_detaches_the_list_from_its_campaigns_then_deletes_it(
    client: AsyncClient, tenant: Tenant, unique_name: str, family: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    other = f"{unique_name} other"
    await create_list(client, tenant, name=other)
    campaign = await create_campaign(
        client, tenant, voice_body(f"{unique_name} calls", [unique_name, other])
    )

    response = await client.delete(
        Paths(family, tenant.bot).list(target["_id"]),
        params={"force": "true"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    # The list as it was just before: still used by the campaign.
    data = response.json()["data"]
    assert data["campaignInUse"] == in_use([campaign])
    assert data["isListInUse"] is True
    assert_not_found(await get_list(client, tenant, target["_id"], family))
    assert (await get_campaign(client, tenant, campaign["_id"]))["contactLists"] == [other]


async def test_force_false_is_the_guarded_delete(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    await create_campaign(client, tenant, voice_body(f"{unique_name} calls", [unique_name]))
    response = await client.delete(
        Paths("v1", tenant.bot).list(target["_id"]),
        params={"force": "false"},
        headers=tenant.headers(),
    )
    assert_failure(response, 409, "list_in_use")
    assert (await get_list(client, tenant, target["_id"])).status_code == 200


async def test_force_must_be_a_boolean(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    response = await client.delete(
        Paths("v1", tenant.bot).list(target["_id"]),
        params={"force": "perhaps"},
        headers=tenant.headers(),
    )
    [entry] = assert_failure(response, 400, "validation_error")
    assert entry["field"] == "force"
    assert (await get_list(client, tenant, target["_id"])).status_code == 200


@pytest.mark.parametrize("family", FAMILIES)
async def test_campaign_in_use_is_live_on_every_read(
    client: AsyncClient, tenant: Tenant, unique_name: str, family: str
) -> None:
    target = await create_list(client, tenant, name=unique_name)
    idle = await create_list(client, tenant, name=f"{unique_name} idle")

    async def reads() -> tuple[dict[str, Any], dict[str, Any]]:
        got = (await get_list(client, tenant, target["_id"], family)).json()["data"]
        summaries = {item["_id"]: item for item in await get_all(client, tenant, family)}
        assert summaries[idle["_id"]]["campaignInUse"] == []
        assert summaries[idle["_id"]]["isListInUse"] is False
        return got, summaries[target["_id"]]

    for shown in await reads():
        assert (shown["campaignInUse"], shown["isListInUse"]) == ([], False)

    first = await create_campaign(client, tenant, voice_body(f"{unique_name} A", [unique_name]))
    second = await create_campaign(client, tenant, sms_body(f"{unique_name} B", [unique_name]))
    for shown in await reads():
        assert (shown["campaignInUse"], shown["isListInUse"]) == (in_use([first, second]), True)

    await delete_campaign(client, tenant, first)
    for shown in await reads():
        assert (shown["campaignInUse"], shown["isListInUse"]) == (in_use([second]), True)

    await delete_campaign(client, tenant, second)
    for shown in await reads():
        assert (shown["campaignInUse"], shown["isListInUse"]) == ([], False)


async def test_the_default_global_dnc_list_is_among_the_dnc_lists(
    client: AsyncClient, tenant: Tenant
) -> None:
    [dnc] = await get_all(client, tenant, "v2", type="dnc")
    assert (dnc["name"], dnc["listType"]) == (DEFAULT_DNC, "dnc")
    # Asked again, the same list: it is made once.
    assert [item["_id"] for item in await get_all(client, tenant, "v2", type="dnc")] == [dnc["_id"]]
    full = (await get_list(client, tenant, dnc["_id"], "v2")).json()["data"]
    assert (full["isGlobalDNC"], full["isDefault"]) == (True, True)
    # Contact lists are listed without it.
    assert dnc["_id"] not in [item["_id"] for item in await get_all(client, tenant, "v2")]


async def test_a_dnc_list_used_by_a_campaign_is_not_deleted(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    await create_list(client, tenant, name=unique_name)
    campaign = await create_campaign(
        client, tenant, voice_body(f"{unique_name} calls", [unique_name], dnc=DEFAULT_DNC)
    )
    [dnc] = await get_all(client, tenant, "v2", type="dnc")
    assert dnc["campaignInUse"] == in_use([campaign])

    [entry] = assert_failure(await delete_list(client, tenant, dnc["_id"]), 409, "list_in_use")
    assert entry["campaignInUse"] == in_use([campaign])


@pytest.mark.parametrize("name", [DEFAULT_DNC, DEFAULT_DNC.upper(), "default global dnc"])
async def test_the_default_dnc_name_is_reserved_for_the_bots_own_list(
    client: AsyncClient, tenant: Tenant, unique_name: str, name: str
) -> None:
    # Before the Default Global DNC list exists, as after: no contact list may take its name.
    created = await client.post(
        Paths("v1", tenant.bot).create, json={"name": name}, headers=tenant.headers()
    )
    assert_failure(created, 409, "duplicate_name")
    target = await create_list(client, tenant, name=unique_name)
    renamed = await client.put(
        Paths("v1", tenant.bot).list(target["_id"]), json={"name": name}, headers=tenant.headers()
    )
    assert_failure(renamed, 409, "duplicate_name")
    assert (await get_list(client, tenant, target["_id"])).json()["data"]["name"] == unique_name
    # So a campaign can always name it.
    await create_campaign(client, tenant, voice_body(f"{unique_name} calls", [unique_name]))
    [dnc] = await get_all(client, tenant, "v2", type="dnc")
    assert dnc["name"] == DEFAULT_DNC
