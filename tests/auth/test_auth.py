"""Authentication and permissions (CONTRACT §1–2, §6): who may call which route.

Bad tokens get Kore.ai's exact 401 body on every contact-list route of both path
families, and a rejected write changes nothing. Then the token variants that must be
accepted, the 403s (bot, iid, accountId, scope) and the order of the checks.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient

from contactlists.apps import service as apps
from tests.support.auth_cases import (
    FAMILIES,
    INVALID_CREDENTIALS,
    READ_ROUTES,
    ROUTES,
    WRITE_ROUTES,
    claims,
    create_list,
    sign,
    snapshot,
    unexpected,
    unsigned,
)
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id

pytestmark = pytest.mark.anyio

# Each kind of bad credentials: the auth headers it sends, made for the tenant under attack.
BadCredentials = Callable[[Tenant, TenantFactory], Awaitable[dict[str, str]]]


async def _missing(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {}


async def _empty(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": ""}


async def _garbage(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": "this-is-not-a-jwt"}


async def _two_segments(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    header_and_payload, _, _signature = tenant.token().rpartition(".")
    return {"auth": header_and_payload}


async def _four_segments(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": f"{tenant.token()}.c2lnbmF0dXJl"}


async def _wrong_secret(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": sign(claims(tenant), secrets.token_urlsafe(64))}


async def _tampered_payload(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    # The app's own signature over other claims: the signature no longer matches.
    header, _, signature = tenant.token(sub="u-tester").split(".")
    forged = sign(claims(tenant, sub="u-admin"), tenant.client_secret).split(".")[1]
    return {"auth": f"{header}.{forged}.{signature}"}


async def _unknown_app(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": sign(claims(tenant, appId=f"cs-{uuid.uuid4()}"), tenant.client_secret)}


async def _appid_misspelt(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    payload = claims(tenant)
    payload["appid"] = payload.pop("appId")
    return {"auth": sign(payload, tenant.client_secret)}


async def _expired(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    now = int(time.time())
    # Expired two minutes ago: beyond the 60 s leeway.
    return {"auth": sign(claims(tenant, iat=now - 3600, exp=now - 120), tenant.client_secret)}


async def _alg_none(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": unsigned(claims(tenant))}


async def _hs512_not_allowed(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    # The right secret, but the app allows only HS256.
    return {"auth": sign(claims(tenant), tenant.client_secret, algorithm="HS512")}


async def _iat_in_future(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    now = int(time.time())
    return {"auth": sign(claims(tenant, iat=now + 300, exp=now + 3600), tenant.client_secret)}


async def _nbf_in_future(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"auth": sign(claims(tenant, nbf=int(time.time()) + 300), tenant.client_secret)}


async def _revoked(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    # A second app on the same account and bot, revoked: its own valid token is refused.
    other = await tenants.create(account_id=tenant.account_id, bots=[tenant.bot])
    await tenants.revoke(other)
    return {"auth": other.token(sub="u-tester")}


async def _bearer_garbage(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    return {"Authorization": "Bearer this-is-not-a-jwt"}


async def _basic_scheme(tenant: Tenant, tenants: TenantFactory) -> dict[str, str]:
    # A valid token, but not as a Bearer credential.
    return {"Authorization": f"Basic {tenant.token()}"}


BAD_CREDENTIALS: dict[str, BadCredentials] = {
    "missing": _missing,
    "empty": _empty,
    "garbage": _garbage,
    "two_segments": _two_segments,
    "four_segments": _four_segments,
    "wrong_secret": _wrong_secret,
    "tampered_payload": _tampered_payload,
    "unknown_app_id": _unknown_app,
    "appid_misspelt": _appid_misspelt,
    "expired_beyond_leeway": _expired,
    "alg_none": _alg_none,
    "hs512_not_allowed": _hs512_not_allowed,
    "iat_in_future": _iat_in_future,
    "nbf_in_future": _nbf_in_future,
    "revoked_app": _revoked,
    "bearer_garbage": _bearer_garbage,
    "basic_scheme": _basic_scheme,
}


def sample_headers(tenant: Tenant, credentials: dict[str, str]) -> dict[str, str]:
    """Kore.ai's iid and accountId, correct, with ``credentials`` as the only auth."""
    return {"iid": tenant.bot, "accountId": tenant.account_id, **credentials}


# --- 1. Bad credentials: 401 on every route, and nothing changes ------------------------------


@pytest.mark.parametrize("kind", list(BAD_CREDENTIALS))
async def test_bad_credentials_are_refused_on_every_route(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory, kind: str
) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    headers = sample_headers(tenant, await BAD_CREDENTIALS[kind](tenant, tenants))

    refused = {}
    for route in ROUTES:
        response = await route.send(client, tenant.bot, existing["_id"], headers)
        refused[route.id] = (response.status_code, response.json())

    assert refused == {route.id: (401, INVALID_CREDENTIALS) for route in ROUTES}
    # Not created, not updated, not deleted.
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_hs256_token_is_refused_by_an_hs512_only_app(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    tenant = await tenants.create(algorithms=["HS512"])
    headers = sample_headers(tenant, {"auth": sign(claims(tenant), tenant.client_secret)})

    response = await client.get(Paths("v1", tenant.bot).get_all, headers=headers)

    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS


async def test_token_of_a_revoked_app_stops_working(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    token = tenant.token(sub="u-tester")
    for family in FAMILIES:
        before = await client.get(
            Paths(family, tenant.bot).get_all, headers=tenant.headers(auth=token)
        )
        assert before.status_code == 200, before.text

    await tenants.revoke(tenant)
    revoked_at = time.monotonic()

    # The process caches verified apps and sees a revocation within
    # CONTACTLISTS_APP_CACHE_CHECK_SECONDS (0.25 s): refused well within a second.
    for family in FAMILIES:
        while True:
            after = await client.get(
                Paths(family, tenant.bot).get_all, headers=tenant.headers(auth=token)
            )
            if after.status_code != 200 or time.monotonic() - revoked_at > 1.0:
                break
            await asyncio.sleep(0.02)
        assert (after.status_code, after.json()) == (401, INVALID_CREDENTIALS)
    assert time.monotonic() - revoked_at < 1.0


# --- 2. Accepted variants ---------------------------------------------------------------------


async def test_bearer_authorization_is_accepted(client: AsyncClient, tenant: Tenant) -> None:
    headers = sample_headers(tenant, {"Authorization": f"Bearer {tenant.token(sub='u-bearer')}"})

    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        created = await client.post(
            paths.create, json={"name": f"Bearer {family}"}, headers=headers
        )
        assert created.status_code == 200, created.text
        assert created.json()["data"]["createdBy"] == "u-bearer"
        fetched = await client.get(paths.list(created.json()["data"]["_id"]), headers=headers)
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["data"]["name"] == f"Bearer {family}"


async def test_sub_is_recorded_as_created_by_and_updated_by(
    client: AsyncClient, tenant: Tenant
) -> None:
    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        created = await client.post(
            paths.create,
            json={"name": f"Audited {family}"},
            headers=tenant.headers(auth=tenant.token(sub="u-alice")),
        )
        assert created.status_code == 200, created.text
        assert created.json()["data"]["createdBy"] == "u-alice"
        list_id = created.json()["data"]["_id"]

        updated = await client.put(
            paths.list(list_id),
            json={"description": "edited"},
            headers=tenant.headers(auth=tenant.token(sub="u-bob")),
        )

        assert updated.status_code == 200, updated.text
        assert updated.json()["data"]["body"]["updatedBy"] == "u-bob"
        stored = (await client.get(paths.list(list_id), headers=tenant.headers())).json()["data"]
        assert (stored["createdBy"], stored["updatedBy"]) == ("u-alice", "u-bob")


async def test_token_without_sub_records_the_app_id(client: AsyncClient, tenant: Tenant) -> None:
    headers = tenant.headers(auth=tenant.token())
    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        created = await client.post(
            paths.create, json={"name": f"No sub {family}"}, headers=headers
        )
        assert created.status_code == 200, created.text
        assert created.json()["data"]["createdBy"] == tenant.client_id
        list_id = created.json()["data"]["_id"]
        # Updated by a sub, then by the app alone: updatedBy follows the last writer.
        by_alice = await client.put(
            paths.list(list_id),
            json={"description": "by alice"},
            headers=tenant.headers(auth=tenant.token(sub="u-alice")),
        )
        assert by_alice.status_code == 200, by_alice.text

        updated = await client.put(paths.list(list_id), json={"description": "x"}, headers=headers)

        assert updated.status_code == 200, updated.text
        assert updated.json()["data"]["body"]["updatedBy"] == tenant.client_id
        stored = (await client.get(paths.list(list_id), headers=tenant.headers())).json()["data"]
        assert (stored["createdBy"], stored["updatedBy"]) == (tenant.client_id, tenant.client_id)


def _expired_within_leeway(tenant: Tenant) -> str:
    now = int(time.time())
    # Expired 30 s ago: within the 60 s leeway.
    return sign(claims(tenant, iat=now - 3600, exp=now - 30), tenant.client_secret)


def _without_exp(tenant: Tenant) -> str:
    return tenant.token(expires_in=None)


def _app_id_only(tenant: Tenant) -> str:
    # Kore.ai's recipe signs {appId} and nothing else.
    return sign({"appId": tenant.client_id}, tenant.client_secret)


def _nbf_within_leeway(tenant: Tenant) -> str:
    return sign(claims(tenant, nbf=int(time.time()) + 20), tenant.client_secret)


def _iat_within_leeway(tenant: Tenant) -> str:
    return sign(claims(tenant, iat=int(time.time()) + 20), tenant.client_secret)


ACCEPTED_TOKENS: dict[str, Callable[[Tenant], str]] = {
    "expired_within_leeway": _expired_within_leeway,
    "without_exp": _without_exp,
    "app_id_only": _app_id_only,
    "nbf_within_leeway": _nbf_within_leeway,
    "iat_within_leeway": _iat_within_leeway,
}


async def test_token_variants_are_accepted(client: AsyncClient, tenant: Tenant) -> None:
    answered = {}
    for kind, make in ACCEPTED_TOKENS.items():
        headers = sample_headers(tenant, {"auth": make(tenant)})
        for family in FAMILIES:
            paths = Paths(family, tenant.bot)
            created = await client.post(
                paths.create, json={"name": f"{kind} {family}"}, headers=headers
            )
            listed = await client.post(paths.get_all, headers=headers)
            answered[(kind, family)] = (created.status_code, listed.status_code)

    assert answered == dict.fromkeys(answered, (200, 200))
    assert len(answered) == len(ACCEPTED_TOKENS) * len(FAMILIES)
    listed = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert len(listed.json()["data"]) == len(answered)


async def test_hs512_is_accepted_when_the_app_allows_it(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    tenant = await tenants.create(algorithms=["HS256", "HS512"])
    hs512 = sign(claims(tenant, sub="u-512"), tenant.client_secret, algorithm="HS512")
    hs256 = sign(claims(tenant, sub="u-256"), tenant.client_secret, algorithm="HS256")

    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        created = await client.post(
            paths.create,
            json={"name": f"Strong {family}"},
            headers=sample_headers(tenant, {"auth": hs512}),
        )
        assert created.status_code == 200, created.text
        assert created.json()["data"]["createdBy"] == "u-512"
        # The app still accepts HS256 too.
        fetched = await client.get(
            paths.list(created.json()["data"]["_id"]),
            headers=sample_headers(tenant, {"auth": hs256}),
        )
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["data"]["createdBy"] == "u-512"


ACCOUNT_ID_PLACEMENTS = {
    "header": ({"accountId"}, False),
    "lower_case_header": ({"accountid"}, False),
    "upper_case_header": ({"ACCOUNTID"}, False),
    "mixed_case_header": ({"AccountID"}, False),
    "query": (set(), True),
    "header_and_query": ({"accountId"}, True),
    "omitted": (set(), False),
}


async def test_account_id_may_be_header_in_any_case_query_or_omitted(
    client: AsyncClient, tenant: Tenant
) -> None:
    answered = {}
    for placement, (header_names, in_query) in ACCOUNT_ID_PLACEMENTS.items():
        headers = {"auth": tenant.token(sub="u-tester"), "iid": tenant.bot}
        headers.update(dict.fromkeys(header_names, tenant.account_id))
        params = {"accountId": tenant.account_id} if in_query else {}
        for family in FAMILIES:
            paths = Paths(family, tenant.bot)
            created = await client.post(
                paths.create, json={"name": f"{placement} {family}"}, headers=headers, params=params
            )
            listed = await client.get(paths.get_all, headers=headers, params=params)
            answered[(placement, family)] = (created.status_code, listed.status_code)

    assert answered == dict.fromkeys(answered, (200, 200))
    # Every list belongs to the app's account, whichever way it was (not) named.
    listed = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert len(listed.json()["data"]) == len(answered)
    one = await client.get(
        Paths("v1", tenant.bot).list(listed.json()["data"][0]["_id"]), headers=tenant.headers()
    )
    assert one.json()["data"]["accountId"] == tenant.account_id


async def test_iid_and_account_id_may_be_omitted_on_every_route(
    client: AsyncClient, tenant: Tenant
) -> None:
    headers = {"auth": tenant.token(sub="u-tester")}

    answered = {}
    for route in ROUTES:
        existing = await create_list(client, tenant, name=f"Omitted {route.id}")
        response = await route.send(client, tenant.bot, existing["_id"], headers)
        answered[route.id] = response.status_code

    assert answered == {route.id: 200 for route in ROUTES}


# --- 4. 403: bot, iid and accountId; 400 when the accountIds disagree -------------------------


async def test_bot_the_app_may_not_use_is_forbidden_on_every_route(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    # The list exists on the other bot, in the app's own account.
    other_bot = new_bot_id()
    owner = await tenants.create(account_id=tenant.account_id, bots=[other_bot])
    existing = await create_list(client, owner)
    before = await snapshot(client, owner, existing["_id"])

    problems = {}
    for route in ROUTES:
        response = await route.send(
            client, other_bot, existing["_id"], tenant.headers(iid=other_bot)
        )
        problems[route.id] = unexpected(response, 403, 4003, "forbidden")

    assert problems == dict.fromkeys(problems)
    assert await snapshot(client, owner, existing["_id"]) == before


async def test_app_with_all_bots_may_use_any_bot_of_its_account(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    tenant = await tenants.create(all_bots=True)
    for family, bot in zip(FAMILIES, (new_bot_id(), new_bot_id()), strict=True):
        response = await client.post(
            Paths(family, bot).create, json={"name": "Anywhere"}, headers=tenant.headers(iid=bot)
        )
        assert response.status_code == 200, response.text


async def test_iid_other_than_the_path_bot_is_forbidden_on_every_route(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    # The app may use both bots: only the mismatch between iid and the path is wrong.
    first, second = new_bot_id(), new_bot_id()
    tenant = await tenants.create(bots=[first, second])
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])

    problems = {}
    for route in ROUTES:
        response = await route.send(client, first, existing["_id"], tenant.headers(iid=second))
        problems[route.id] = unexpected(response, 403, 4003, "forbidden")

    assert problems == dict.fromkeys(problems)
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_account_id_of_another_account_is_forbidden_on_every_route(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    other_account = (await tenants.create(bots=[tenant.bot])).account_id
    token = tenant.token(sub="u-tester")
    placements = {
        "header": ({"accountId": other_account}, {}),
        "lower_case_header": ({"accountid": other_account}, {}),
        "query": ({}, {"accountId": other_account}),
    }

    problems = {}
    for placement, (account_header, params) in placements.items():
        headers = {"auth": token, "iid": tenant.bot, **account_header}
        for route in ROUTES:
            response = await route.send(client, tenant.bot, existing["_id"], headers, params)
            problems[(placement, route.id)] = unexpected(response, 403, 4003, "forbidden")

    assert problems == dict.fromkeys(problems)
    assert len(problems) == len(placements) * len(ROUTES)
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_account_id_header_and_query_that_disagree_are_invalid_on_every_route(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    # The header is the app's own account; the query names another one.
    other_account = (await tenants.create(bots=[tenant.bot])).account_id

    fields = {}
    for route in ROUTES:
        response = await route.send(
            client, tenant.bot, existing["_id"], tenant.headers(), {"accountId": other_account}
        )
        assert unexpected(response, 400, 400, "validation_error") is None, route.id
        fields[route.id] = [entry.get("field") for entry in response.json()["errors"]]

    assert fields == {route.id: ["accountId"] for route in ROUTES}
    assert await snapshot(client, tenant, existing["_id"]) == before


# --- 5. Scopes --------------------------------------------------------------------------------


async def test_read_scope_may_use_every_read_route(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    reader = await tenants.create(
        scopes=[apps.SCOPE_READ], account_id=tenant.account_id, bots=[tenant.bot]
    )
    existing = await create_list(client, tenant)

    seen = {}
    for route in READ_ROUTES:
        response = await route.send(client, tenant.bot, existing["_id"], reader.headers())
        assert response.status_code == 200, (route.id, response.text)
        data = response.json()["data"]
        seen[route.id] = [data["_id"]] if route.operation == "get" else [i["_id"] for i in data]

    assert seen == {route.id: [existing["_id"]] for route in READ_ROUTES}


async def test_read_scope_may_not_write(
    client: AsyncClient, tenant: Tenant, tenants: TenantFactory
) -> None:
    reader = await tenants.create(
        scopes=[apps.SCOPE_READ], account_id=tenant.account_id, bots=[tenant.bot]
    )
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])

    problems = {}
    for route in WRITE_ROUTES:
        response = await route.send(client, tenant.bot, existing["_id"], reader.headers())
        problems[route.id] = unexpected(response, 403, 4003, "forbidden")

    assert problems == {route.id: None for route in WRITE_ROUTES}
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_app_with_both_scopes_may_write(client: AsyncClient, tenants: TenantFactory) -> None:
    tenant = await tenants.create(scopes=[apps.SCOPE_READ, apps.SCOPE_MANAGE])

    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        created = await client.post(
            paths.create, json={"name": f"Both {family}"}, headers=tenant.headers()
        )
        assert created.status_code == 200, created.text
        list_id = created.json()["data"]["_id"]
        updated = await client.put(
            paths.list(list_id), json={"description": "both"}, headers=tenant.headers()
        )
        assert updated.status_code == 200, updated.text
        deleted = await client.delete(paths.list(list_id), headers=tenant.headers())
        assert deleted.status_code == 200, deleted.text
        gone = await client.get(paths.list(list_id), headers=tenant.headers())
        assert gone.status_code == 404


# --- 6. Order of the checks -------------------------------------------------------------------


MALFORMED_BODIES = {
    "invalid_json": b'{"name": ',
    "wrong_types": b'{"name": 42, "allowDuplicates": "maybe"}',
    "not_an_object": b"[1, 2, 3]",
    "empty": b"",
}
BODY_ROUTES = [route for route in ROUTES if route.body() is not None]


async def test_credentials_are_checked_before_the_body(client: AsyncClient, tenant: Tenant) -> None:
    existing = await create_list(client, tenant)
    before = await snapshot(client, tenant, existing["_id"])
    headers = {
        "iid": tenant.bot,
        "accountId": tenant.account_id,
        "content-type": "application/json",
    }

    answered = {}
    for route in BODY_ROUTES:
        for name, body in MALFORMED_BODIES.items():
            response = await client.request(
                route.method, route.url(tenant.bot, existing["_id"]), headers=headers, content=body
            )
            answered[(route.id, name)] = (response.status_code, response.json())

    expected = (401, INVALID_CREDENTIALS)
    assert answered == dict.fromkeys(answered, expected)
    assert len(answered) == len(BODY_ROUTES) * len(MALFORMED_BODIES)
    assert await snapshot(client, tenant, existing["_id"]) == before


async def test_credentials_are_checked_before_permissions_and_existence(
    client: AsyncClient,
) -> None:
    # A bot nobody may use, a mismatched iid, a foreign account and an unknown list.
    headers = {"iid": new_bot_id(), "accountId": "f" * 24}

    answered = {}
    for route in ROUTES:
        response = await route.send(client, new_bot_id(), f"cl-{uuid.uuid4()}", headers)
        answered[route.id] = (response.status_code, response.json())

    assert answered == {route.id: (401, INVALID_CREDENTIALS) for route in ROUTES}
