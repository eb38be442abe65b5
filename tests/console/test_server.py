"""The console's server side, in process: its page and headers, and its sign-in."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from contactlists.app import create_app
from contactlists.config import Settings
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio


async def sign_in(client: AsyncClient, tenant: Tenant, **overrides: Any) -> Any:
    body = {"clientId": tenant.client_id, "clientSecret": tenant.client_secret, "bot": tenant.bot}
    return await client.post("/console/token", json={**body, **overrides})


async def test_the_page_and_its_assets_forbid_inline_scripts_and_framing(
    client: AsyncClient,
) -> None:
    page = await client.get("/console")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the policy would block it
    for asset in ("console.js", "console.css"):
        answer = await client.get(f"/console/static/{asset}")
        assert answer.status_code == 200, asset
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_sign_in_mints_a_short_lived_token_the_api_accepts(
    client: AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    answer = await sign_in(client, tenant)

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    data = answer.json()["data"]
    assert data["readOnly"] is False
    assert tenant.client_secret not in answer.text
    claims = jwt.decode(data["token"], tenant.client_secret, algorithms=["HS256"])
    assert claims["appId"] == tenant.client_id
    assert claims["exp"] - claims["iat"] == settings.console_token_seconds
    lists = await client.get(Paths("v2", tenant.bot).get_all, headers={"auth": data["token"]})
    assert lists.status_code == 200
    assert lists.headers["cache-control"] == "no-store"


async def test_unauthenticated_answers_may_be_cached(client: AsyncClient) -> None:
    assert "cache-control" not in (await client.get("/healthz")).headers


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"clientSecret": "not-the-secret"}, 401, "The client id or the client secret is wrong."),
        ({"clientId": "cs-unknown"}, 401, "The client id or the client secret is wrong."),
        ({"bot": "st-another-bot"}, 403, "may not use the bot st-another-bot"),
        ({"bot": "not a bot"}, 400, "The bot id must look like st-"),
    ],
)
async def test_a_refused_sign_in_says_why(
    client: AsyncClient, tenant: Tenant, overrides: dict[str, str], status: int, message: str
) -> None:
    answer = await sign_in(client, tenant, **overrides)

    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]


async def test_a_read_only_app_is_told_so(client: AsyncClient, tenants: TenantFactory) -> None:
    reader = await tenants.create(scopes=["campaign-read"])

    answer = await sign_in(client, reader)

    assert answer.json()["data"]["readOnly"] is True


async def test_a_revoked_app_cannot_sign_in(client: AsyncClient, tenants: TenantFactory) -> None:
    tenant = await tenants.create()
    await tenants.revoke(tenant)

    assert (await sign_in(client, tenant)).status_code == 401


async def test_the_console_can_be_turned_off(settings: Settings) -> None:
    application: FastAPI = create_app(settings.model_copy(update={"console": False}))
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        assert (await http.get("/console")).status_code == 404
        assert (await http.get("/console/static/console.js")).status_code == 404
        assert (await http.post("/console/token", json={})).status_code == 404
