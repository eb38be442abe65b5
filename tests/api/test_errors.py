"""The error envelope of every path (CONTRACT §6), X-Request-Id, body limits, operations routes."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.db import migrate
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

FAMILIES = ["v1", "v2"]
JSON = {"Content-Type": "application/json"}
# What a generated (or safely echoed) request id may look like.
PLAIN_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SMALL_LIMIT = 2048


async def create(client: AsyncClient, tenant: Tenant, family: str, name: str) -> dict[str, Any]:
    response = await client.post(
        Paths(family, tenant.bot).create, json={"name": name}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def fetch(client: AsyncClient, tenant: Tenant, list_id: str) -> dict[str, Any]:
    response = await client.get(Paths("v1", tenant.bot).list(list_id), headers=tenant.headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def names(client: AsyncClient, tenant: Tenant) -> list[str]:
    response = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


def allowed(response: Response) -> set[str]:
    return {method.strip().upper() for method in response.headers["allow"].split(",")}


# ---------------------------------------------------------------- 404 and 405


async def test_an_unknown_route_is_a_404_envelope(client: AsyncClient, tenant: Tenant) -> None:
    v1 = Paths("v1", tenant.bot)
    for method, path in [
        ("GET", "/nope"),
        ("POST", "/"),
        ("GET", f"/agentassist/api/v9/public/{tenant.bot}/campaign/contactList/x"),
        ("POST", f"{v1.create}/extra"),
        ("GET", f"{v1.prefix}/contactLists"),
    ]:
        response = await client.request(method, path, headers=tenant.headers())
        assert response.status_code == 404, f"{method} {path}: {response.text}"
        assert_failure(response, 404, "not_found")


def wrong_methods(tenant: Tenant, list_id: str) -> list[tuple[str, str, set[str]]]:
    """(method, path, the methods the path does serve) for requests with a wrong method."""
    v1, v2 = Paths("v1", tenant.bot), Paths("v2", tenant.bot)
    return [
        ("PATCH", v1.list(list_id), {"GET", "PUT", "DELETE"}),
        ("PATCH", v2.list(list_id), {"GET", "PUT", "DELETE"}),
        ("POST", v2.list(list_id), {"GET", "PUT", "DELETE"}),
        ("PATCH", v1.get_all, {"GET", "POST"}),
        ("PATCH", v2.create, {"POST"}),
        ("POST", "/healthz", {"GET"}),
    ]


async def test_a_wrong_method_is_a_405_envelope_with_an_allow_header(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create(client, tenant, "v1", "Untouched")
    before = await fetch(client, tenant, created["_id"])

    for method, path, methods in wrong_methods(tenant, created["_id"]):
        response = await client.request(
            method, path, content=b'{"name": "Changed"}', headers={**tenant.headers(), **JSON}
        )
        assert response.status_code == 405, f"{method} {path}: {response.text}"
        assert_failure(response, 405, "method_not_allowed")
        assert allowed(response) & methods, response.headers.get("allow")
        assert method not in allowed(response)

    assert await fetch(client, tenant, created["_id"]) == before


async def test_the_allow_header_lists_every_method_of_the_path(
    client: AsyncClient, tenant: Tenant
) -> None:
    # RFC 9110 §15.5.6: a 405 lists the methods the target resource supports.
    for method, path, methods in wrong_methods(tenant, f"cl-{uuid.uuid4()}"):
        response = await client.request(method, path, headers=tenant.headers())
        assert response.status_code == 405, f"{method} {path}: {response.text}"
        assert methods <= allowed(response), (method, path, response.headers["allow"])


@pytest.mark.parametrize("family", FAMILIES)
async def test_named_routes_answer_405_instead_of_passing_for_list_ids(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    # `createContactList` and `getAllListDetails` are routes of their own, not list ids:
    # a method they do not serve is a wrong method, not an unknown list.
    paths = Paths(family, tenant.bot)
    cases = [
        ("DELETE", paths.create, "POST"),
        ("GET", paths.create, "POST"),
        ("PUT", paths.create, "POST"),
        ("PUT", paths.get_all, "GET"),
        ("DELETE", paths.get_all, "GET"),
    ]
    for method, url, served in cases:
        response = await client.request(
            method, url, content=b'{"name": "x"}', headers={**tenant.headers(), **JSON}
        )
        assert response.status_code == 405, f"{method} {url}: {response.text}"
        assert_failure(response, 405, "method_not_allowed")
        assert served in allowed(response)
    assert await names(client, tenant) == []


async def test_unknown_malformed_and_long_ids_are_404(
    client: AsyncClient, tenants: TenantFactory, tenant: Tenant
) -> None:
    mine = await create(client, tenant, "v1", "Mine")
    mine_before = await fetch(client, tenant, mine["_id"])
    stranger = await tenants.create()
    foreign = await create(client, stranger, "v2", "Foreign")
    unknown_ids = [
        f"cl-{uuid.uuid4()}",
        "not-a-list-id",
        "cl-",
        "cl-%E2%98%83",
        "%20",
        "cl-" + "f" * 2_000,
        foreign["_id"],
    ]
    index = 0
    for list_id in unknown_ids:
        for method, body in [
            ("GET", None),
            ("PUT", {"name": "Renamed"}),
            ("PUT", {}),
            ("DELETE", None),
        ]:
            family = FAMILIES[index % 2]
            index += 1
            content = json.dumps(body).encode() if body is not None else None
            response = await client.request(
                method,
                Paths(family, tenant.bot).list(list_id),
                content=content,
                headers={**tenant.headers(), **JSON},
            )
            assert response.status_code == 404, f"{method} {list_id[:40]}: {response.text}"
            assert_failure(response, 404, "not_found")

    assert await fetch(client, tenant, mine["_id"]) == mine_before
    assert (await fetch(client, stranger, foreign["_id"]))["name"] == "Foreign"


@pytest.mark.parametrize("family", FAMILIES)
async def test_an_id_with_a_nul_character_is_a_404(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    # PostgreSQL cannot even compare a text holding NUL: the id must never reach it as is.
    url = Paths(family, tenant.bot).list("cl-%00")
    for method, content in [("GET", None), ("PUT", b'{"name": "x"}'), ("DELETE", None)]:
        response = await client.request(
            method, url, content=content, headers={**tenant.headers(), **JSON}
        )
        assert response.status_code == 404, f"{method}: {response.text}"
        assert_failure(response, 404, "not_found")


# ---------------------------------------------------------------- X-Request-Id


async def test_every_response_carries_a_fresh_request_id(
    client: AsyncClient, tenant: Tenant
) -> None:
    v2 = Paths("v2", tenant.bot)
    responses = [
        await client.get("/healthz"),
        await client.post(v2.create, json={"name": "Listed"}, headers=tenant.headers()),
        await client.post(v2.create, content=b"{", headers={**tenant.headers(), **JSON}),
        await client.post(v2.create, json={"name": "x"}),
        await client.get("/no/such/route"),
        await client.patch(v2.create, headers=tenant.headers()),
    ]

    assert [response.status_code for response in responses] == [200, 200, 400, 401, 404, 405]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(request_id and PLAIN_REQUEST_ID.match(request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_plain_client_request_id_is_echoed(client: AsyncClient, tenant: Tenant) -> None:
    create_url = Paths("v1", tenant.bot).create
    cases: list[tuple[str, str, str, dict[str, Any] | None, bool]] = [
        # (request id, method, url, JSON body, with a token): a 200, 200, 400, 404 and 401
        ("req-123", "GET", "/healthz", None, False),
        ("a.b:c_d-E9", "POST", create_url, {"name": "Echo"}, True),
        ("x" * 128, "POST", create_url, {"name": ""}, True),
        (str(uuid.uuid4()), "GET", "/no/such/route", None, False),
        ("no-token", "POST", create_url, {"name": "Anonymous"}, False),
    ]
    statuses = []
    for request_id, method, url, body, with_token in cases:
        headers = {"X-Request-Id": request_id, **(tenant.headers() if with_token else {})}
        response = await client.request(method, url, json=body, headers=headers)
        assert response.headers["x-request-id"] == request_id, (method, url, response.text)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 400, 404, 401]


async def test_a_hostile_client_request_id_is_replaced(client: AsyncClient) -> None:
    hostile: list[str | bytes] = [
        "two words",
        "tab\there",
        "line\nbreak",
        "evil\r\nX-Injected: 1",
        "x" * 129,
        "",
        "<script>",
        "caf\xe9".encode("latin-1"),
    ]
    for value in hostile:
        response = await client.get("/healthz", headers={"X-Request-Id": value})
        assert response.status_code == 200
        echoed = response.headers["x-request-id"]
        assert echoed != (value.decode("latin-1") if isinstance(value, bytes) else value)
        assert PLAIN_REQUEST_ID.match(echoed), echoed
        assert "x-injected" not in response.headers
        assert len(response.headers.get_list("x-request-id")) == 1


# ---------------------------------------------------------------- 500


async def test_an_unexpected_error_is_a_500_envelope_without_details(
    app: FastAPI, client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret detail: SELECT client_secret FROM app")

    app.add_api_route("/boom", boom)

    with caplog.at_level(logging.ERROR):
        anonymous = await client.get("/boom")
        traced = await client.get("/boom", headers={"X-Request-Id": "trace-500"})

    for response in (anonymous, traced):
        errors = assert_failure(response, 500, "internal_error")
        assert len(errors) == 1
        for leak in ("secret", "SELECT", "client_secret", "RuntimeError", "Traceback", "boom"):
            assert leak not in response.text, leak
    assert traced.headers["x-request-id"] == "trace-500"
    # The log has what the response hides, under the request id.
    logged = {
        getattr(record, "request_id", None)
        for record in caplog.records
        if record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    }
    assert {anonymous.headers["x-request-id"], "trace-500"} <= logged


# ---------------------------------------------------------------- 413


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A client of an app whose request bodies may be at most SMALL_LIMIT bytes."""
    small = create_app(settings.model_copy(update={"max_body_bytes": SMALL_LIMIT}))
    async with (
        small.router.lifespan_context(small),
        AsyncClient(transport=ASGITransport(app=small), base_url="http://test") as http,
    ):
        yield http


def body_of_size(size: int, name: str) -> bytes:
    """A valid create body of exactly ``size`` bytes."""
    empty = json.dumps({"name": name, "pad": ""}).encode()
    body = json.dumps({"name": name, "pad": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


async def test_a_body_over_the_limit_is_a_413_and_stores_nothing(
    small_client: AsyncClient, tenant: Tenant
) -> None:
    url = Paths("v1", tenant.bot).create
    headers = {**tenant.headers(), **JSON}

    declared = await small_client.post(
        url, content=body_of_size(SMALL_LIMIT + 1, "Declared"), headers=headers
    )

    async def chunks() -> AsyncIterator[bytes]:
        body = body_of_size(4 * SMALL_LIMIT, "Streamed")
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    streamed = await small_client.post(url, content=chunks(), headers=headers)

    assert "content-length" not in streamed.request.headers
    for response in (declared, streamed):
        assert_failure(response, 413, "payload_too_large")
    assert await names(small_client, tenant) == []

    # Exactly the limit is allowed.
    fits = await small_client.post(url, content=body_of_size(SMALL_LIMIT, "Fits"), headers=headers)
    assert fits.status_code == 200, fits.text
    assert await names(small_client, tenant) == ["Fits"]


async def test_an_update_over_the_limit_is_a_413_and_changes_nothing(
    small_client: AsyncClient, tenant: Tenant
) -> None:
    created = await create(small_client, tenant, "v2", "Small")
    before = await fetch(small_client, tenant, created["_id"])
    body = json.dumps({"description": "new", "pad": "x" * SMALL_LIMIT}).encode()

    response = await small_client.put(
        Paths("v2", tenant.bot).list(created["_id"]),
        content=body,
        headers={**tenant.headers(), **JSON},
    )

    assert_failure(response, 413, "payload_too_large")
    assert await fetch(small_client, tenant, created["_id"]) == before


# ---------------------------------------------------------------- operations routes


async def test_health_and_readiness(client: AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "schema": migrate.head_revision()}


async def test_openapi_lists_every_contact_list_operation_of_both_families(
    client: AsyncClient,
) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    operation_ids = []
    for prefix in (
        "/agentassist/api/v1/public/{bot}/campaign/contactList",
        "/campaign/api/v2/public/{bot}/campaign/contactList",
    ):
        expected = {
            f"{prefix}/createContactList": {"post"},
            f"{prefix}/getAllListDetails": {"get", "post"},
            f"{prefix}/{{list_id}}": {"get", "put", "delete"},
        }
        for path, methods in expected.items():
            assert path in paths, path
            assert methods <= set(paths[path]), (path, set(paths[path]))
            operation_ids += [paths[path][method]["operationId"] for method in methods]
        create_body = paths[f"{prefix}/createContactList"]["post"]["requestBody"]
        schema = create_body["content"]["application/json"]["schema"]
        assert {"name", "description", "source", "allowDuplicates"} <= set(schema["properties"])
    assert len(set(operation_ids)) == len(operation_ids) == 12


async def test_docs_use_only_local_assets(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert "//cdn" not in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets), assets
    assert any(asset.endswith(".css") for asset in assets), assets
    for asset in assets:
        assert asset.startswith("/static/swagger-ui/"), asset
        fetched = await client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content, asset
    assert "/openapi.json" in html


# ---------------------------------------------------------------- 415 and hostile text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_is_a_415_and_stores_nothing(
    client: AsyncClient, tenant: Tenant, content_type: str
) -> None:
    created = await create(client, tenant, "v1", "Kept")
    body = json.dumps({"name": "Sneaked in"}).encode()
    headers = {**tenant.headers(), "Content-Type": content_type}

    for family in FAMILIES:
        paths = Paths(family, tenant.bot)
        create_reply = await client.post(paths.create, content=body, headers=headers)
        update_reply = await client.put(paths.list(created["_id"]), content=body, headers=headers)
        assert_failure(create_reply, 415, "unsupported_media_type")
        assert_failure(update_reply, 415, "unsupported_media_type")

    assert await names(client, tenant) == ["Kept"]


async def test_json_media_types_with_parameters_or_suffixes_are_accepted(
    client: AsyncClient, tenant: Tenant
) -> None:
    for index, content_type in enumerate(
        ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json"]
    ):
        response = await client.post(
            Paths("v1", tenant.bot).create,
            content=json.dumps({"name": f"Typed {index}"}).encode(),
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, f"{content_type}: {response.text}"


async def test_an_empty_form_body_is_an_empty_update_not_a_415(
    client: AsyncClient, tenant: Tenant
) -> None:
    """curl's `--data ''` sends an empty body typed as a form; it is judged as empty."""
    created = await create(client, tenant, "v2", "Empty form")
    before = await fetch(client, tenant, created["_id"])
    response = await client.put(
        Paths("v2", tenant.bot).list(created["_id"]),
        content=b"",
        headers={**tenant.headers(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert await fetch(client, tenant, created["_id"]) == before


@pytest.mark.parametrize("search", ["\x00", "a\x00b", "\x1b[31m"])
async def test_control_characters_in_search_are_a_400_not_a_database_error(
    client: AsyncClient, tenant: Tenant, search: str
) -> None:
    response = await client.get(
        Paths("v1", tenant.bot).get_all, params={"search": search}, headers=tenant.headers()
    )
    errors = assert_failure(response, 400, "validation_error")
    assert [entry["field"] for entry in errors] == ["search"]
