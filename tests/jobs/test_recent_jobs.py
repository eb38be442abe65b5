"""``GET {prefix}/jobs`` (extension): the bot's recent jobs, newest first, of every kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient

from tests.support.contacts import add_contacts, create_list
from tests.support.list_wire import delete_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio


def jobs_path(tenant: Tenant, family: str = "v2") -> str:
    return f"{Paths(family, tenant.bot).prefix}/jobs"


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_recent_jobs_newest_first_with_their_counts(
    client: AsyncClient,
    tenant: Tenant,
    tenants: TenantFactory,
    run_jobs: Callable[[], Awaitable[int]],
    family: str,
) -> None:
    created = await create_list(client, tenant, "Leads")
    first = await add_contacts(client, tenant, "Leads", [{"phoneNumber": "+12125550100"}])
    await run_jobs()
    second = await add_contacts(client, tenant, "Leads", [{"phoneNumber": "bad"}])
    await run_jobs()
    assert (await delete_list(client, tenant, created["_id"])).status_code == 200
    other = await tenants.create()
    await create_list(client, other, "Leads")
    await add_contacts(client, other, "Leads", [{"phoneNumber": "+12125550101"}])

    answer = await client.get(jobs_path(tenant, family), headers=tenant.headers())

    assert answer.status_code == 200, answer.text
    found = answer.json()["data"]
    kinds = [job["type"] for job in found]
    assert kinds == ["purge_list", "add_contacts", "add_contacts"]  # the delete's purge last
    by_id = {job["_id"]: job for job in found}
    assert by_id[first]["inserted"] == 1
    assert by_id[second]["invalid"] == 1
    assert by_id[second]["state"] == "completed"
    assert "errors" not in by_id[second]
    stamps = [job["createdAt"] for job in found]
    assert stamps == sorted(stamps, reverse=True)
    assert {job["contactListId"] for job in found} == {created["_id"]}


async def test_limit_and_bounds(client: AsyncClient, tenant: Tenant) -> None:
    await create_list(client, tenant, "Leads")
    for n in range(3):
        await add_contacts(client, tenant, "Leads", [{"phoneNumber": f"+1212555010{n}"}])

    page = await client.get(jobs_path(tenant), params={"limit": 2}, headers=tenant.headers())
    too_many = await client.get(jobs_path(tenant), params={"limit": 201}, headers=tenant.headers())

    assert len(page.json()["data"]) == 2
    assert too_many.status_code == 400
