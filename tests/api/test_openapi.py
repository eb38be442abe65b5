"""The OpenAPI document tells the truth: each answer below is held to what it documents.

The Schemathesis run (test_fuzz.py) explores; these are the cases it found, kept as plain
examples, and the document's own structure (every error status, resolvable references);
and the operations routes beside it: health, readiness and the docs page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from httpx import AsyncClient, Response

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.db import migrate
from tests.support.campaigns import CampaignPaths, create_campaign, sms_body
from tests.support.contacts import add_contacts, create_list
from tests.support.envelope import assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory
from tests.support.uploads import app_with, export_url

DOCUMENT = create_app(Settings(database_url="sqlite://", workers=0)).openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
METHODS = {"get", "put", "post", "delete", "patch"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def assert_documented(operation_id: str, response: Response) -> None:
    """``response`` has a status, content type, body and headers that its operation documents."""
    operation = SCHEMA.find_operation_by_id(operation_id)
    documented = operation.definition.raw["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))
    answer = documented[str(response.status_code)]
    media_type = response.headers["content-type"].partition(";")[0]
    assert media_type in answer["content"], media_type
    for name, header in answer.get("headers", {}).items():
        assert not header["required"] or name in response.headers, name
    operation.validate_response(response)


def referenced(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(referenced(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(referenced(item) for item in node))
    return set()


# ------------------------------------------------------------------ the document itself


def test_the_served_document_is_the_completed_one() -> None:
    """No catch-all `default`: every operation lists each status it can answer."""
    for path, method, operation in operations():
        statuses = set(operation["responses"])
        assert "default" not in statuses, (method, path)
        # 503 too: a request still running when serve's shutdown grace ends gets one.
        assert {"500", "503"} <= statuses, (method, path)
        if any(p["name"] == "auth" for p in operation.get("parameters", [])):
            assert {"200", "400", "401", "403", "404", "429", "500", "503"} <= statuses, path
        if "requestBody" in operation:
            assert {"413", "415"} <= statuses, (method, path)


def test_error_answers_carry_the_envelope_narrowed_to_their_reasons() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    for path, method, operation in operations():
        for status, answer in operation["responses"].items():
            headers = answer.get("headers", {})
            assert headers["X-Request-Id"]["required"] is True, (method, path, status)
            if status.startswith(("4", "5")) and path != "/readyz":
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/Error{status}"}
    entry = schemas["Error401"]["allOf"][1]["properties"]["errors"]["items"]["properties"]
    assert entry == {"code": {"enum": [4002]}, "reason": {"enum": ["invalid_credentials"]}}
    conflicts = schemas["Error409"]["allOf"][1]["properties"]["errors"]["items"]["properties"]
    assert conflicts["reason"]["enum"] == [
        "conflict",
        "duplicate_name",
        "invalid_state",
        "list_in_use",
    ]


def test_conflicts_are_documented_only_where_they_happen() -> None:
    with_conflicts = {
        operation["operationId"]
        for _, _, operation in operations()
        if "409" in operation["responses"]
    }
    assert "delete_contact_list_v1" in with_conflicts
    assert "trigger_campaign_by_id_api_v2" in with_conflicts
    assert "get_contact_list_v2" not in with_conflicts
    update_contact = SCHEMA.find_operation_by_id("update_contact_v1").definition.raw
    assert "number" in update_contact["responses"]["409"]["description"]
    update_list = SCHEMA.find_operation_by_id("update_contact_list_v1").definition.raw
    assert "list of this name" in update_list["responses"]["409"]["description"]
    assert "add_contacts" not in with_conflicts


def test_every_reference_resolves_inside_the_document() -> None:
    """Body schemas came with their own `$defs`, which pointed at nothing in the document."""
    schemas = DOCUMENT["components"]["schemas"]
    references = referenced(DOCUMENT["paths"]) | referenced(schemas)
    assert not {ref for ref in references if not ref.startswith("#/components/schemas/")}
    assert {ref.rpartition("/")[2] for ref in references} <= set(schemas)
    get_all = DOCUMENT["paths"]["/campaign/api/v2/public/{bot}/campaign/getAllCampaignDetails"]
    body = get_all["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["filters"] == {"$ref": "#/components/schemas/CampaignFilters"}


def test_path_ids_are_documented_in_the_formats_the_routes_match() -> None:
    path = DOCUMENT["paths"]["/agentassist/api/v1/public/{bot}/campaign/contactList/{list_id}"]
    parameters = {p["name"]: p["schema"] for p in path["get"]["parameters"] if p["in"] == "path"}
    assert parameters["list_id"]["pattern"] == "^cl-[0-9A-Za-z-]{1,100}$"
    assert parameters["bot"]["pattern"] == "^st-[A-Za-z0-9-]{1,100}$"
    job = DOCUMENT["paths"]["/campaign/api/v2/public/{bot}/campaign/jobs/{job_id}"]["get"]
    assert job["parameters"][0]["schema"]["pattern"] == "^job-[0-9A-Za-z-]{1,100}$"


def test_updates_document_their_body_as_optional() -> None:
    """An empty body changes nothing and answers 200 (CONTRACT §4.4), so it is not required;
    nor is the campaign status route's (Kore.ai sends none; `view=contacts` may page)."""
    for path, method, operation in operations():
        if "requestBody" not in operation:
            continue
        optional = operation["operationId"].startswith(
            ("update_contact_list", "update_contact_", "campaign_status")
        )
        assert operation["requestBody"]["required"] is not optional, (method, path)


# ------------------------------------------------------------------ answers held to it


@pytest.mark.anyio
async def test_campaign_status_answers_as_documented(client: AsyncClient, tenant: Tenant) -> None:
    """It has no `message` (Kore.ai's shape); the document once said it had."""
    await create_list(client, tenant, "Texts")
    campaign = await create_campaign(client, tenant, sms_body("Renewal texts", ["Texts"]))
    for family in ("v1", "v2"):
        response = await client.post(
            CampaignPaths(family, tenant.bot).status(campaign["_id"]),
            params={"view": "status"},
            headers=tenant.headers(),
        )

        assert response.status_code == 200, response.text
        assert "message" not in response.json()
        assert_documented(f"campaign_status_{family}", response)


@pytest.mark.anyio
async def test_an_empty_update_answers_as_documented(client: AsyncClient, tenant: Tenant) -> None:
    created = await create_list(client, tenant, "Quiet")

    response = await client.put(
        Paths("v2", tenant.bot).list(created["_id"]), content=b"", headers=tenant.headers()
    )

    assert response.status_code == 200, response.text
    assert_documented("update_contact_list_v2", response)


@pytest.mark.anyio
@pytest.mark.parametrize("value", [0, 1767225600, 1.5, True, ["2026-01-01T00:00:00Z"]])
async def test_campaign_dates_that_are_not_text_are_refused(
    client: AsyncClient, tenant: Tenant, value: Any
) -> None:
    """Pydantic read a number as seconds since 1970; the document promises a date string."""
    for field in ("startDate", "endDate"):
        response = await client.post(
            CampaignPaths("v2", tenant.bot).get_all,
            json={"type": "voice", field: value},
            headers=tenant.headers(),
        )

        assert_validation_error(response, [field])
        assert_documented("get_all_campaigns_v2", response)


@pytest.mark.anyio
async def test_error_answers_match_their_documented_schemas(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create_list(client, tenant, "Taken")
    paths = Paths("v2", tenant.bot)
    answers = {
        "create_contact_list_v2": [
            await client.post(paths.create, json={"name": "Taken"}, headers=tenant.headers()),
            await client.post(paths.create, json={}, headers=tenant.headers()),
            await client.post(
                paths.create,
                content=b"name=x",
                headers={**tenant.headers(), "content-type": "application/x-www-form-urlencoded"},
            ),
        ],
        "get_contact_list_v2": [
            await client.get(paths.list("cl-0"), headers=tenant.headers()),
            await client.get(paths.list(created["_id"])),
            await client.get(paths.list(created["_id"]), headers=tenant.headers(iid="st-x")),
        ],
    }
    statuses = set()
    for operation_id, responses in answers.items():
        for response in responses:
            statuses.add(response.status_code)
            assert_documented(operation_id, response)
    assert statuses == {400, 401, 403, 404, 409, 415}


@pytest.mark.anyio
async def test_csv_answers_are_documented(
    client: AsyncClient, tenant: Tenant, run_jobs: Any
) -> None:
    """The export, and a job's row errors with `Accept: text/csv`, are text/csv answers."""
    created = await create_list(client, tenant, "Exported")
    job_id = await add_contacts(
        client, tenant, "Exported", [{"phoneNumber": "+14155550100"}, {"phoneNumber": "x"}]
    )
    await run_jobs()
    paths = Paths("v1", tenant.bot)

    export = await client.get(export_url("v1", tenant, created["_id"]), headers=tenant.headers())
    errors = await client.get(
        f"{paths.prefix}/jobs/{job_id}/errors",
        headers={**tenant.headers(), "accept": "text/csv"},
    )
    unknown = await client.get(
        f"{paths.prefix}/jobs/job-0/errors", headers={**tenant.headers(), "accept": "text/csv"}
    )

    assert export.headers["content-type"].startswith("text/csv")
    assert_documented("export_contacts_v1", export)
    assert errors.headers["content-type"].startswith("text/csv")
    assert errors.text.splitlines()[0] == "row,field,code,value,message"
    assert_documented("get_job_errors_v1", errors)
    assert unknown.status_code == 404
    assert_documented("get_job_errors_v1", unknown)


@pytest.mark.anyio
async def test_a_rate_limited_answer_is_documented(settings: Settings) -> None:
    """429 with the envelope and the documented Retry-After header."""
    async with app_with(settings, rate_limit_per_minute=1) as (app, client):
        tenant = await TenantFactory(app).create()
        url = Paths("v2", tenant.bot).get_all
        first = await client.get(url, headers=tenant.headers())
        limited = await client.get(url, headers=tenant.headers())

    assert first.status_code == 200, first.text
    assert limited.status_code == 429, limited.text
    assert limited.headers["retry-after"].isdigit()
    assert_documented("get_all_contact_lists_v2_get", limited)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("family", "query", "field"),
    [
        ("v2", [("search", "a"), ("search", "b")], "search"),
        ("v1", [("limit", "5"), ("type", "call"), ("limit", "5")], "limit"),
        ("v2", [("skip", "0"), ("skip", "0")], "skip"),
    ],
)
async def test_a_query_parameter_given_twice_is_refused(
    client: AsyncClient, tenant: Tenant, family: str, query: Any, field: str
) -> None:
    """Starlette read the last of them and answered 200; the fuzzing sends such arrays."""
    url = Paths(family, tenant.bot).get_all

    response = await client.get(url, params=query, headers=tenant.headers())
    anonymous = await client.get(url, params=query)
    once = await client.get(url, params=dict(query[:-1]), headers=tenant.headers())

    assert_validation_error(response, [field])
    assert_documented(f"get_all_contact_lists_{family}_get", response)
    assert anonymous.status_code == 401, "credentials are checked first"
    assert once.status_code in (200, 403), once.text


# ---------------------------------------------------------------- operations routes


@pytest.mark.anyio
async def test_health_and_readiness(client: AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "schema": migrate.head_revision()}


@pytest.mark.anyio
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


@pytest.mark.anyio
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
