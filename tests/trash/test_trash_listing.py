"""``GET {prefix}/contactList/trash`` (extension): the lists a restore can still bring back."""

from __future__ import annotations

from datetime import datetime

import pytest
from httpx import AsyncClient

from tests.support.contacts import create_list
from tests.support.list_wire import delete_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio


def trash_path(tenant: Tenant, family: str = "v2") -> str:
    return f"{Paths(family, tenant.bot).prefix}/contactList/trash"


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_trash_lists_deleted_lists_newest_first_until_restored(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory, family: str
) -> None:
    first = await create_list(client, tenant, "Old leads")
    second = await create_list(client, tenant, "New leads")
    kept = await create_list(client, tenant, "Kept")
    other = await tenants.create()
    await create_list(client, other, "Old leads")
    for list_id in (first["_id"], second["_id"]):
        assert (await delete_list(client, tenant, list_id)).status_code == 200

    answer = await client.get(trash_path(tenant, family), headers=tenant.headers())

    assert answer.status_code == 200, answer.text
    items = answer.json()["data"]
    assert sorted(item["name"] for item in items) == ["New leads", "Old leads"]
    stamps = [item["deletedAt"] for item in items]
    assert stamps == sorted(stamps, reverse=True)
    assert kept["_id"] not in {item["_id"] for item in items}
    item = items[0]
    assert set(item) == {"_id", "name", "listType", "totalRecordCount", "deletedAt", "purgeAfter"}
    deleted = datetime.fromisoformat(item["deletedAt"])
    assert datetime.fromisoformat(item["purgeAfter"]) > deleted
    assert (await client.get(trash_path(other, family), headers=other.headers())).json()[
        "data"
    ] == []

    restore = f"{Paths(family, tenant.bot).list(first['_id'])}/restore"
    assert (await client.post(restore, headers=tenant.headers())).status_code == 200
    after = (await client.get(trash_path(tenant, family), headers=tenant.headers())).json()
    assert [item["name"] for item in after["data"]] == ["New leads"]


async def test_a_read_only_app_sees_the_trash(client: AsyncClient, tenants: TenantFactory) -> None:
    reader = await tenants.create(scopes=["campaign-read"])

    answer = await client.get(trash_path(reader), headers=reader.headers())

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == []
