"""Requests for the contact tests: addContacts, jobs and pages of contacts."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.support.paths import Paths
from tests.support.tenants import Tenant

ADD_CONTACTS = "/api/1.1/public/{bot}/campaign/contactList/addContacts"


async def create_list(
    client: AsyncClient, tenant: Tenant, name: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        Paths("v2", tenant.bot).create, json={"name": name, **fields}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def add_contacts(
    client: AsyncClient,
    tenant: Tenant,
    list_name: str,
    items: list[Any],
    on_duplicate: str | None = None,
) -> str:
    body: dict[str, Any] = {"contact_list_name": list_name, "data": items}
    if on_duplicate is not None:
        body["onDuplicate"] = on_duplicate
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json=body,
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    job_id: str = response.json()["jobId"]
    return job_id


async def job(client: AsyncClient, tenant: Tenant, job_id: str, family: str = "v1") -> Any:
    response = await client.get(
        f"{Paths(family, tenant.bot).prefix}/jobs/{job_id}", headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def all_contacts(
    client: AsyncClient, tenant: Tenant, list_id: str, family: str = "v1"
) -> list[dict[str, Any]]:
    """Every contact of the list, following the cursor."""
    contacts: list[dict[str, Any]] = []
    url = f"{Paths(family, tenant.bot).list(list_id)}/getAllContacts"
    params: dict[str, Any] = {"limit": 1000}
    while True:
        response = await client.get(url, params=params, headers=tenant.headers())
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        contacts.extend(data["results"])
        if not data["nextCursor"]:
            return contacts
        params["cursor"] = data["nextCursor"]


async def get_list(client: AsyncClient, tenant: Tenant, list_id: str) -> dict[str, Any]:
    response = await client.get(Paths("v2", tenant.bot).list(list_id), headers=tenant.headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
