"""``GET {prefix}/contactList/{id}/timeZones`` (extension): a list's contacts by time zone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient

from tests.support.contacts import add_contacts, create_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_contacts_counted_by_time_zone_largest_first(
    client: AsyncClient, tenant: Tenant, run_jobs: Callable[[], Awaitable[int]], family: str
) -> None:
    created = await create_list(client, tenant, "Zones")
    other = await create_list(client, tenant, "Elsewhere")
    items = [
        *({"phoneNumber": f"+1212555{n:04d}"} for n in range(3)),  # New York
        {"phoneNumber": "+14155550100"},  # Los Angeles
        {"phoneNumber": "+14155550101", "timeZone": "Europe/Paris"},
        {"phoneNumber": "+14155550102", "timeZone": "Europe/Paris"},
    ]
    await add_contacts(client, tenant, "Zones", items)
    await add_contacts(client, tenant, "Elsewhere", [{"phoneNumber": "+12125559999"}])
    await run_jobs()
    path = f"{Paths(family, tenant.bot).list(created['_id'])}/timeZones"

    answer = await client.get(path, headers=tenant.headers())

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == [
        {"timeZone": "America/New_York", "count": 3},
        {"timeZone": "Europe/Paris", "count": 2},
        {"timeZone": "America/Los_Angeles", "count": 1},
    ]
    assert other["_id"] != created["_id"]


async def test_an_unknown_list_is_404(client: AsyncClient, tenant: Tenant) -> None:
    path = f"{Paths('v2', tenant.bot).list('cl-00000000-0000-4000-8000-000000000000')}/timeZones"

    assert (await client.get(path, headers=tenant.headers())).status_code == 404
