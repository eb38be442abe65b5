"""DNC lists and the DNC check (CONTRACT §8), fed by addContacts like any list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.support.contacts import add_contacts, all_contacts, create_list
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


def check_path(tenant: Tenant, family: str = "v2") -> str:
    return f"{Paths(family, tenant.bot).prefix}/dnc/check"


async def check(
    client: AsyncClient, tenant: Tenant, numbers: list[Any], family: str = "v2"
) -> list[dict[str, Any]]:
    response = await client.post(
        check_path(tenant, family), json={"phoneNumbers": numbers}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    results: list[dict[str, Any]] = body["data"]["results"]
    return results


@pytest.fixture
def frozen(app: FastAPI) -> Callable[[datetime], None]:
    def freeze(moment: datetime) -> None:
        app.state.clock = lambda: moment

    freeze(NOW)
    return freeze


async def test_dnc_list_is_created_and_never_keeps_a_number_twice(
    client: AsyncClient, tenant: Tenant, run_jobs: Callable[[], Awaitable[int]]
) -> None:
    created = await create_list(client, tenant, "Complaints", listType="dnc", allowDuplicates=True)
    assert created["listType"] == "dnc"
    assert created["allowDuplicates"] is False
    await add_contacts(
        client,
        tenant,
        "Complaints",
        [{"phoneNumber": "+1 212 555 0100"}, {"phoneNumber": "(212) 555-0100"}],
    )
    await run_jobs()
    assert [c["phoneNumber"] for c in await all_contacts(client, tenant, created["_id"])] == [
        "+12125550100"
    ]


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_check_answers_in_order_with_lists_and_expiry(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: Callable[[], Awaitable[int]],
    frozen: Callable[[datetime], None],
    family: str,
) -> None:
    await create_list(client, tenant, "Complaints", listType="dnc")
    await create_list(client, tenant, "Legal", listType="dnc")
    await create_list(client, tenant, "Customers")  # a call list: never a DNC
    later = (NOW + timedelta(days=1)).isoformat()
    await add_contacts(
        client,
        tenant,
        "Complaints",
        [
            {"phoneNumber": "+12125550100", "reason": "asked"},
            {"phoneNumber": "+12125550101", "expiresAt": later},
            {"phoneNumber": "+12125550102", "expiresAt": "2026-06-30T00:00:00Z"},
        ],
    )
    await add_contacts(client, tenant, "Legal", [{"phoneNumber": "+12125550100"}])
    await add_contacts(client, tenant, "Customers", [{"phoneNumber": "+12125550103"}])
    await run_jobs()
    numbers = ["212-555-0100", "+12125550101", "+12125550102", "+12125550103", "not a number"]
    results = await check(client, tenant, numbers, family)
    assert results == [
        {"phoneNumber": "212-555-0100", "e164": "+12125550100", "dnc": True,
         "lists": ["Complaints", "Legal"]},
        {"phoneNumber": "+12125550101", "e164": "+12125550101", "dnc": True,
         "lists": ["Complaints"]},
        # Expired the day before.
        {"phoneNumber": "+12125550102", "e164": "+12125550102", "dnc": False, "lists": []},
        {"phoneNumber": "+12125550103", "e164": "+12125550103", "dnc": False, "lists": []},
        {"phoneNumber": "not a number", "e164": None, "dnc": False, "lists": []},
    ]  # fmt: skip
    # The clock moves past the second entry's expiry: it no longer counts.
    frozen(NOW + timedelta(days=2))
    assert (await check(client, tenant, ["+12125550101"], family))[0]["dnc"] is False


async def test_check_sees_only_the_callers_bot(
    client: AsyncClient,
    tenants: TenantFactory,
    run_jobs: Callable[[], Awaitable[int]],
    frozen: Callable[[datetime], None],
) -> None:
    owner, stranger = await tenants.create(), await tenants.create()
    await create_list(client, owner, "Complaints", listType="dnc")
    await add_contacts(client, owner, "Complaints", [{"phoneNumber": "+12125550100"}])
    await run_jobs()
    assert (await check(client, owner, ["+12125550100"]))[0]["dnc"] is True
    assert (await check(client, stranger, ["+12125550100"]))[0]["dnc"] is False


async def test_check_takes_fifty_thousand_numbers_and_no_more(
    client: AsyncClient, tenant: Tenant, frozen: Callable[[datetime], None]
) -> None:
    numbers = [f"+1212{2000000 + n}" for n in range(50_000)]
    results = await check(client, tenant, numbers)
    assert len(results) == 50_000
    assert results[-1]["phoneNumber"] == numbers[-1]
    for body in ({"phoneNumbers": [*numbers, "+12125550100"]}, {"phoneNumbers": []}, {},
                 {"phoneNumbers": "+12125550100"}, {"phoneNumbers": [12125550100]}):  # fmt: skip
        response = await client.post(check_path(tenant), json=body, headers=tenant.headers())
        errors = assert_failure(response, 400, "validation_error")
        assert all(entry["field"].startswith("phoneNumbers") for entry in errors), errors
