"""Wire shapes and small request helpers for the delete and get-all tests.

Key sets and orders follow Kore.ai's samples (reference/kore-docs-notes.md §4.3, §4.4, §4.6).
"""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response

from tests.support.paths import Paths
from tests.support.tenants import Tenant

# The data of the seed's sample response (v1 get/delete), in the sample's order.
V1_FULL_KEYS = [
    "_id", "isActive", "orgId", "name", "lname", "description", "totalRecordCount", "status",
    "createdBy", "updatedBy", "mapping", "isListInUse", "iId", "listType", "campaignInUse",
    "accountId", "source", "apiConfigurations", "files", "createdAt", "updatedAt",
]  # fmt: skip
V2_FULL_KEYS = [
    "_id", "isActive", "name", "description", "totalRecordCount", "status", "createdBy",
    "updatedBy", "mapping", "isListInUse", "listType", "isGlobalDNC", "isDefault",
    "campaignInUse", "source", "apiConfigurations", "columns", "files", "createdAt", "updatedAt",
    "allowDuplicates",
]  # fmt: skip
V1_SUMMARY_KEYS = [
    "_id", "name", "description", "totalRecordCount", "status", "mapping", "isListInUse",
    "listType", "campaignInUse", "source", "apiConfigurations", "files", "updatedAt",
]  # fmt: skip
# v2 adds `columns` before `files`.
V2_SUMMARY_KEYS = [*V1_SUMMARY_KEYS[:-2], "columns", "files", "updatedAt"]
# Keys of ours (CONTRACT §3, extension) that may follow Kore.ai's keys in a full list object.
EXTENSION_KEYS = {"defaultRegion", "dedupeKey"}


def full_keys(family: str) -> list[str]:
    return V1_FULL_KEYS if family == "v1" else V2_FULL_KEYS


def summary_keys(family: str) -> list[str]:
    return V1_SUMMARY_KEYS if family == "v1" else V2_SUMMARY_KEYS


def assert_full_shape(data: dict[str, Any], family: str) -> None:
    """Kore.ai's keys first, in the sample's order, then only our extension keys."""
    expected = full_keys(family)
    assert list(data)[: len(expected)] == expected, list(data)
    assert set(list(data)[len(expected) :]) <= EXTENSION_KEYS, list(data)


def assert_not_found(response: Response) -> None:
    """A 404 with the error envelope of CONTRACT §6."""
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["status"] == "failure"
    assert isinstance(body["message"], str)
    assert body["message"]
    assert len(body["errors"]) >= 1
    for entry in body["errors"]:
        assert entry["code"] == 404
        assert entry["reason"] == "not_found"
        assert isinstance(entry["msg"], str)
        assert entry["msg"]


def newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` in the get-all order of CONTRACT §4.3: updatedAt descending, then _id.

    The wire timestamps all have the same fixed-width format, so they sort as strings.
    """
    by_id = sorted(items, key=lambda item: item["_id"])
    return sorted(by_id, key=lambda item: item["updatedAt"], reverse=True)


async def create_list(
    client: AsyncClient, tenant: Tenant, family: str = "v1", **body: Any
) -> dict[str, Any]:
    """Create a list through the API; its data as the create response shows it."""
    response = await client.post(
        Paths(family, tenant.bot).create, json=body, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def get_list(
    client: AsyncClient, tenant: Tenant, list_id: str, family: str = "v1"
) -> Response:
    return await client.get(Paths(family, tenant.bot).list(list_id), headers=tenant.headers())


async def delete_list(
    client: AsyncClient, tenant: Tenant, list_id: str, family: str = "v1"
) -> Response:
    return await client.request(
        "DELETE", Paths(family, tenant.bot).list(list_id), headers=tenant.headers()
    )


async def get_all(
    client: AsyncClient,
    tenant: Tenant,
    family: str = "v1",
    method: str = "GET",
    **params: Any,
) -> list[dict[str, Any]]:
    """The data of a successful get-all with these query parameters."""
    response = await client.request(
        method, Paths(family, tenant.bot).get_all, params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["message"]) == ("success", "")
    data: list[dict[str, Any]] = body["data"]
    return data
