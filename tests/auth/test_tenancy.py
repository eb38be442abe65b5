"""Tenancy (CONTRACT §1): data is owned by (accountId, bot).

A list of another account or another bot does not exist for the caller: 404, never 403,
absent from get-all, and untouched by the attempt.
"""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from tests.support.auth_cases import (
    ROUTES,
    Route,
    create_list,
    snapshot,
    unexpected,
)
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id

pytestmark = pytest.mark.anyio

# The routes that name a list: they must answer 404 for a list the caller does not own.
ID_ROUTES = [route for route in ROUTES if route.operation in ("get", "update", "delete")]
GET_ALL_ROUTES = [route for route in ROUTES if route.operation.startswith("get_all")]


async def _not_found_on_id_routes(
    client: AsyncClient, intruder: Tenant, bot: str, list_id: str
) -> dict[str, str | None]:
    problems = {}
    for route in ID_ROUTES:
        response = await route.send(client, bot, list_id, intruder.headers(iid=bot))
        problems[route.id] = unexpected(response, 404, 404, "not_found")
    return problems


async def _ids_in_get_all(client: AsyncClient, caller: Tenant, bot: str) -> dict[str, list[str]]:
    seen = {}
    for route in GET_ALL_ROUTES:
        response = await route.send(client, bot, "", caller.headers(iid=bot))
        assert response.status_code == 200, (route.id, response.text)
        seen[route.id] = [item["_id"] for item in response.json()["data"]]
    return seen


async def test_list_of_another_account_is_not_found_on_the_same_bot(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    intruder = await tenants.create(bots=[tenant.bot])
    assert intruder.account_id != tenant.account_id

    problems = await _not_found_on_id_routes(client, intruder, tenant.bot, existing["_id"])

    assert problems == {route.id: None for route in ID_ROUTES}
    # Neither updated nor deleted: the owner sees it exactly as before.
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_list_of_another_account_is_absent_from_get_all(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    existing = await create_list(client, tenant)
    intruder = await tenants.create(bots=[tenant.bot])
    own = await create_list(client, intruder, name="Intruder's own")

    seen_by_intruder = await _ids_in_get_all(client, intruder, tenant.bot)
    seen_by_owner = await _ids_in_get_all(client, tenant, tenant.bot)

    assert seen_by_intruder == {route.id: [own["_id"]] for route in GET_ALL_ROUTES}
    assert seen_by_owner == {route.id: [existing["_id"]] for route in GET_ALL_ROUTES}


async def test_another_account_may_use_the_same_name_on_the_same_bot(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    # Names are unique per (account, bot): another account's list is no duplicate.
    first = await create_list(client, tenant, name="Renewals")
    other = await tenants.create(bots=[tenant.bot])

    second = await create_list(client, other, name="Renewals")

    assert second["_id"] != first["_id"]
    assert (await snapshot(client, tenant, first["_id"]))[0]["name"] == "Renewals"


@pytest.mark.parametrize("intruder_bots", ["other_bot_only", "both_bots"])
async def test_list_of_another_bot_of_the_same_account_is_not_found(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory, intruder_bots: str
) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    other_bot = new_bot_id()
    allowed = [other_bot] if intruder_bots == "other_bot_only" else [other_bot, tenant.bot]
    intruder = await tenants.create(account_id=tenant.account_id, bots=allowed)

    problems = await _not_found_on_id_routes(client, intruder, other_bot, existing["_id"])
    seen = await _ids_in_get_all(client, intruder, other_bot)

    assert problems == {route.id: None for route in ID_ROUTES}
    assert seen == {route.id: [] for route in GET_ALL_ROUTES}
    assert await snapshot(client, tenant, existing["_id"]) == before
    if intruder_bots == "both_bots":
        # The same app reaches the list through the bot that owns it.
        fetched = await client.get(
            Paths("v2", tenant.bot).list(existing["_id"]), headers=intruder.headers(iid=tenant.bot)
        )
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["data"]["_id"] == existing["_id"]


@pytest.mark.parametrize("route", ID_ROUTES, ids=lambda route: route.id)
async def test_foreign_list_looks_exactly_like_an_unknown_one(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory, route: Route
) -> None:
    existing = await create_list(client, tenant)
    intruder = await tenants.create(bots=[tenant.bot])
    unknown_id = f"cl-{uuid.uuid4()}"

    foreign = await route.send(client, tenant.bot, existing["_id"], intruder.headers())
    unknown = await route.send(client, tenant.bot, unknown_id, intruder.headers())

    assert (foreign.status_code, unknown.status_code) == (404, 404)
    # Only the id in the text may differ: the answer gives nothing away.
    assert foreign.text.replace(existing["_id"], "<id>") == unknown.text.replace(unknown_id, "<id>")
