"""Kore.ai's documented samples for the five list operations, sent as documented.

Key sets and key order are compared with the samples (reference/kore-docs-notes.md §4),
on the v1 and the v2 path family.
"""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.support.list_wire import V1_FULL_KEYS as V1_GET_KEYS
from tests.support.list_wire import V1_SUMMARY_KEYS, V2_SUMMARY_KEYS
from tests.support.list_wire import V2_FULL_KEYS as V2_GET_KEYS
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

V1_CREATE_KEYS = [
    "isActive", "name", "description", "totalRecordCount", "status", "createdBy", "updatedBy",
    "mapping", "isListInUse", "listType", "campaignInUse", "source", "apiConfigurations", "files",
    "createdAt", "updatedAt", "_id", "allowDuplicates",
]  # fmt: skip
MAPPING_V1 = ["firstName", "lastName", "phoneNumber", "timeZone", "uniqueId"]
MAPPING_V2 = [*MAPPING_V1, "contactPriority"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LIST_ID = re.compile(r"^cl-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# The v1 sample of Kore.ai's create page, with its `source` (the `name1` typo is tested apart).
SAMPLE_BODY = {
    "name": "Renewal Due - August 2025",
    "description": "This list contains customers with services expiring in July 2025.",
    "source": "passiveApiIntegration",
    "allowDuplicates": True,
}


def keys_in_order(data: dict[str, object], expected: list[str]) -> list[str]:
    """The keys of ``data`` that the sample has, in ``data``'s order."""
    return [key for key in data if key in expected]


async def create(client: AsyncClient, tenant: Tenant, family: str, body: dict[str, object]) -> dict:
    response = await client.post(
        Paths(family, tenant.bot).create, json=body, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_v1_create_answers_the_documented_shape(client: AsyncClient, tenant: Tenant) -> None:
    reply = await create(client, tenant, "v1", SAMPLE_BODY)

    assert reply["status"] == "success"
    assert reply["message"] == "Contact list Renewal Due - August 2025 created successfully"
    data = reply["data"]
    assert keys_in_order(data, V1_CREATE_KEYS) == V1_CREATE_KEYS
    assert list(data)[: len(V1_CREATE_KEYS)] == V1_CREATE_KEYS
    assert LIST_ID.match(data["_id"])
    assert data["isActive"] is True
    assert data["name"] == SAMPLE_BODY["name"]
    assert data["description"] == SAMPLE_BODY["description"]
    assert data["totalRecordCount"] == 0
    assert data["status"] == "Ready"
    assert data["createdBy"] == data["updatedBy"] == "u-tester"
    assert list(data["mapping"]) == MAPPING_V1
    assert all(data["mapping"][key] == key for key in MAPPING_V1)
    assert data["isListInUse"] is False
    assert data["campaignInUse"] == []
    assert data["listType"] == "call"
    assert data["source"] == "passiveApiIntegration"
    assert data["apiConfigurations"] == {"dataSyncMode": "allowDuplicates"}
    assert data["files"] == []
    assert TIMESTAMP.match(data["createdAt"])
    assert data["createdAt"] == data["updatedAt"]
    assert data["allowDuplicates"] is True


async def test_v2_create_answers_the_full_v2_shape(client: AsyncClient, tenant: Tenant) -> None:
    body = {"name": "Renewal", "description": "d", "source": "passiveApi"}
    data = (await create(client, tenant, "v2", body))["data"]

    assert list(data)[: len(V2_GET_KEYS)] == V2_GET_KEYS
    assert list(data["mapping"]) == MAPPING_V2
    assert data["isGlobalDNC"] is False
    assert data["isDefault"] is False
    assert data["columns"] == []
    assert data["source"] == "passiveApi"
    # allowDuplicates defaults to false, shown as Kore.ai's API-integration sample spells it.
    assert data["allowDuplicates"] is False
    assert data["apiConfigurations"] == {"dataSyncMode": "dontAllowDuplicates"}


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_get_answers_the_documented_shape(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    created = (await create(client, tenant, family, SAMPLE_BODY))["data"]

    response = await client.get(
        Paths(family, tenant.bot).list(created["_id"]), headers=tenant.headers()
    )

    assert response.status_code == 200
    reply = response.json()
    assert (reply["status"], reply["message"]) == ("success", "")
    data = reply["data"]
    expected = V1_GET_KEYS if family == "v1" else V2_GET_KEYS
    assert list(data)[: len(expected)] == expected
    assert data["_id"] == created["_id"]
    assert data["createdAt"] == created["createdAt"]
    if family == "v1":
        assert data["lname"] == "renewal due - august 2025"
        assert data["orgId"] == tenant.org_id
        assert data["iId"] == tenant.bot
        assert data["accountId"] == tenant.account_id
        assert list(data["mapping"]) == MAPPING_V1
    else:
        assert list(data["mapping"]) == MAPPING_V2


@pytest.mark.parametrize("family", ["v1", "v2"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_get_all_answers_summaries_newest_first(
    client: AsyncClient, tenant: Tenant, family: str, method: str
) -> None:
    first = (await create(client, tenant, family, {**SAMPLE_BODY, "name": "First"}))["data"]
    second = (await create(client, tenant, family, {**SAMPLE_BODY, "name": "Second"}))["data"]
    paths = Paths(family, tenant.bot)
    # Updating the first makes it the most recently updated.
    await client.put(
        paths.list(first["_id"]), json={"description": "now"}, headers=tenant.headers()
    )

    response = await client.request(method, f"{paths.get_all}?type=call", headers=tenant.headers())

    assert response.status_code == 200
    reply = response.json()
    assert (reply["status"], reply["message"]) == ("success", "")
    assert [item["_id"] for item in reply["data"]] == [first["_id"], second["_id"]]
    expected = V1_SUMMARY_KEYS if family == "v1" else V2_SUMMARY_KEYS
    assert all(list(item) == expected for item in reply["data"])


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_update_echoes_what_it_set(client: AsyncClient, tenant: Tenant, family: str) -> None:
    created = (await create(client, tenant, family, SAMPLE_BODY))["data"]
    paths = Paths(family, tenant.bot)

    response = await client.put(
        paths.list(created["_id"]),
        json={
            "name": "Renewal Due - September 2025",
            "description": "moved",
            "allowDuplicates": False,
        },
        headers=tenant.headers(auth=tenant.token(sub="u-editor")),
    )

    assert response.status_code == 200
    reply = response.json()
    assert reply["message"] == "Contact list Renewal Due - September 2025 updated successfully"
    assert reply["data"]["contactListId"] == created["_id"]
    body = reply["data"]["body"]
    expected_keys = ["name", "description", "allowDuplicates", "orgId", "iId", "listType",
                     "accountId", "updatedBy"]  # fmt: skip
    if family == "v2":
        expected_keys.append("scope")
        assert body["scope"] == ["campaign_management"]
    assert list(body) == expected_keys
    assert body["updatedBy"] == "u-editor"
    assert (body["orgId"], body["iId"], body["accountId"]) == (
        tenant.org_id, tenant.bot, tenant.account_id,
    )  # fmt: skip
    stored = (await client.get(paths.list(created["_id"]), headers=tenant.headers())).json()["data"]
    assert stored["name"] == "Renewal Due - September 2025"
    assert stored["description"] == "moved"
    assert stored["apiConfigurations"] == {"dataSyncMode": "dontAllowDuplicates"}
    assert stored["updatedBy"] == "u-editor"
    assert stored["updatedAt"] >= created["updatedAt"]


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_delete_answers_the_list_as_it_was(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    created = (await create(client, tenant, family, SAMPLE_BODY))["data"]
    paths = Paths(family, tenant.bot)
    before = (await client.get(paths.list(created["_id"]), headers=tenant.headers())).json()["data"]

    response = await client.request(
        "DELETE", paths.list(created["_id"]), headers=tenant.headers(), content=b""
    )

    assert response.status_code == 200
    reply = response.json()
    assert reply["message"] == "Contact list Renewal Due - August 2025 deleted successfully"
    assert reply["data"] == before


async def test_v2_samples_with_account_id_in_query_and_lower_case_header(
    client: AsyncClient, tenant: Tenant
) -> None:
    """v2 samples send accountId twice: as `?accountId=` and as an `accountid` header."""
    paths = Paths("v2", tenant.bot)
    query = f"?accountId={tenant.account_id}"
    headers = {"auth": tenant.token(), "iid": tenant.bot, "accountid": tenant.account_id}
    body = {"name": "Renewal Due", "description": "d", "source": "passiveApi"}

    created = await client.post(paths.create + query, json=body, headers=headers)
    list_id = created.json()["data"]["_id"]
    fetched = await client.get(paths.list(list_id) + query, headers=headers)
    listed = await client.post(f"{paths.get_all}{query}&type=call", headers=headers)
    updated = await client.put(paths.list(list_id) + query, json={"name": "R2"}, headers=headers)
    deleted = await client.delete(paths.list(list_id) + query, headers=headers)

    assert [r.status_code for r in (created, fetched, listed, updated, deleted)] == [200] * 5
    assert [item["_id"] for item in listed.json()["data"]] == [list_id]
    assert updated.json()["data"]["body"]["name"] == "R2"
    assert deleted.json()["data"]["name"] == "R2"
