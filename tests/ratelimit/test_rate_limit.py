"""The per-account rate limit (CONTRACT §6): 429 with Retry-After, counted in the database.

In-process tests move a fake clock instead of waiting for windows to pass. The app under
limit and an unlimited app share the test's database, so what a refused request did (or did
not do) is read through the unlimited one. The last test runs two real `serve` processes on
one database and counts what they accept together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from contactlists.config import Settings
from contactlists.errors import RateLimited
from contactlists.models.ratelimit import RateLimitWindow
from tests.support.campaigns import CampaignPaths, voice_body
from tests.support.contacts import ADD_CONTACTS, add_contacts, create_list
from tests.support.durable import OwnDatabase, service_settings
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.processes import Processes
from tests.support.tenants import Tenant, TenantFactory, new_bot_id
from tests.support.uploads import app_with, csv_bytes, upload

pytestmark = pytest.mark.anyio

LIMIT = 5
WINDOW = 60
# A window's first second, and a moment 12.25 s into it: 47.75 s left, so Retry-After is 48.
WINDOW_START = 1_800_000_000 - 1_800_000_000 % WINDOW
INTO_THE_WINDOW = WINDOW_START + 12.25
KORE_TEXT = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."

RunJobs = Callable[[], Awaitable[int]]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Limited:
    """An app limited to LIMIT requests per account and minute, on the test's database."""

    app: FastAPI
    client: AsyncClient
    tenants: TenantFactory
    clock: FakeClock

    async def rows(self, account_id: str) -> list[tuple[int, int]]:
        """The account's (window_start, requests) rows."""
        async with self.app.state.sessionmaker() as session:
            found = await session.execute(
                select(RateLimitWindow.window_start, RateLimitWindow.requests)
                .where(RateLimitWindow.account_id == account_id)
                .order_by(RateLimitWindow.window_start)
            )
            return [(start, count) for start, count in found.all()]


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Limited]:
    async with app_with(settings, rate_limit_per_minute=LIMIT) as (app, client):
        clock = FakeClock(INTO_THE_WINDOW)
        app.state.rate_limiter.clock = clock
        yield Limited(app, client, TenantFactory(app), clock)


async def get_all(client: AsyncClient, tenant: Tenant, family: str = "v1") -> Response:
    return await client.get(Paths(family, tenant.bot).get_all, headers=tenant.headers())


async def spend(limited: Limited, tenant: Tenant, count: int) -> None:
    """``count`` accepted reads of ``tenant``'s lists."""
    for index in range(count):
        response = await get_all(limited.client, tenant, ("v1", "v2")[index % 2])
        assert response.status_code == 200, f"request {index + 1}: {response.text}"


def assert_limited(response: Response, retry_after: int) -> None:
    errors = assert_failure(response, 429, "rate_limited")
    assert response.json()["message"] == KORE_TEXT
    assert [entry["msg"] for entry in errors] == [KORE_TEXT]
    assert response.headers["retry-after"] == str(retry_after)


async def names(client: AsyncClient, tenant: Tenant) -> list[str]:
    response = await get_all(client, tenant)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["data"])


# ---------------------------------------------------------------- the limit


async def test_n_requests_pass_and_the_next_is_a_429_that_created_nothing(
    limited: Limited, client: AsyncClient
) -> None:
    tenant = await limited.tenants.create()
    http = limited.client
    v1, v2 = Paths("v1", tenant.bot), Paths("v2", tenant.bot)
    created = await http.post(v1.create, json={"name": "First"}, headers=tenant.headers())
    assert created.status_code == 200, created.text
    list_id = created.json()["data"]["_id"]
    accepted = [
        await http.get(v2.list(list_id), headers=tenant.headers()),
        await http.put(v1.list(list_id), json={"description": "d"}, headers=tenant.headers()),
        await http.post(v2.get_all, headers=tenant.headers()),
        await http.get(f"{v1.list(list_id)}/getAllContacts", headers=tenant.headers()),
    ]
    assert [response.status_code for response in accepted] == [200] * (LIMIT - 1)

    refused = await http.post(v2.create, json={"name": "Refused"}, headers=tenant.headers())

    assert_limited(refused, retry_after=48)
    # Read through an app without a limit: the refused create left no list.
    assert await names(client, tenant) == ["First"]


async def test_a_refused_write_of_any_route_changes_nothing(
    limited: Limited, client: AsyncClient, tenants: TenantFactory, run_jobs: RunJobs
) -> None:
    tenant = await limited.tenants.create()
    # Made through the unlimited app, so that the whole budget is left for the writes below.
    same = await tenants.create(account_id=tenant.account_id, bots=[tenant.bot])
    kept = await create_list(client, same, "Kept")
    job_id = await add_contacts(client, same, "Kept", [{"phoneNumber": "+12125550100"}])
    await run_jobs()
    voice = await client.post(
        f"{Paths('v2', tenant.bot).prefix}?campaignType=voice",
        json=voice_body("Calls", ["Kept"]),
        headers=same.headers(),
    )
    assert voice.status_code == 200, voice.text
    campaign_id = voice.json()["data"]["id"]
    before = await everything(client, same, kept["_id"], campaign_id)
    await spend(limited, tenant, LIMIT)

    http, headers = limited.client, tenant.headers()
    v1, v2 = Paths("v1", tenant.bot), Paths("v2", tenant.bot)
    campaigns = CampaignPaths("v1", tenant.bot)
    item = {"phoneNumber": "+12125550101"}
    refused = [
        await http.post(v1.create, json={"name": "New"}, headers=headers),
        await http.put(v2.list(kept["_id"]), json={"name": "Renamed"}, headers=headers),
        await http.delete(v1.list(kept["_id"]), params={"force": "true"}, headers=headers),
        await http.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": "Kept", "data": [item]},
            headers=headers,
        ),
        await upload(
            http, tenant, kept["_id"], csv_bytes([["phoneNumber"], [item["phoneNumber"]]])
        ),
        await http.post(
            f"{campaigns.prefix}?campaignType=voice",
            json=voice_body("More calls", ["Kept"]),
            headers=headers,
        ),
        await http.post(
            campaigns.campaign(campaign_id),
            params={"campaignType": "voice", "trigger": "play"},
            headers=headers,
        ),
        await http.delete(campaigns.campaign(campaign_id), headers=headers),
        await http.post(f"{v2.prefix}/jobs/{job_id}/cancel", headers=headers),
    ]

    for response in refused:
        assert_limited(response, retry_after=48)
    assert await run_jobs() == 0
    assert await everything(client, same, kept["_id"], campaign_id) == before


async def everything(
    client: AsyncClient, tenant: Tenant, list_id: str, campaign_id: str
) -> dict[str, Any]:
    paths = Paths("v2", tenant.bot)
    campaigns = CampaignPaths("v2", tenant.bot)
    reads = {
        "lists": ("GET", paths.get_all, None),
        "list": ("GET", paths.list(list_id), None),
        "contacts": ("GET", f"{paths.list(list_id)}/getAllContacts", None),
        "campaign": ("GET", campaigns.campaign(campaign_id), None),
        "campaigns": ("POST", campaigns.get_all, {"type": "voice"}),
    }
    seen = {}
    for name, (method, url, body) in reads.items():
        response = await client.request(method, url, json=body, headers=tenant.headers())
        assert response.status_code == 200, f"{name}: {response.text}"
        seen[name] = response.json()
    return seen


async def test_the_limit_is_per_account_over_all_its_apps_and_bots(limited: Limited) -> None:
    first = await limited.tenants.create()
    # Another app of the same account, on another bot; and an app of another account.
    second = await limited.tenants.create(account_id=first.account_id, bots=[new_bot_id()])
    stranger = await limited.tenants.create()

    statuses = [
        (await get_all(limited.client, (first, second)[index % 2])).status_code
        for index in range(LIMIT + 2)
    ]

    assert statuses == [200] * LIMIT + [429, 429]
    assert_limited(await get_all(limited.client, second, "v2"), retry_after=48)
    await spend(limited, stranger, LIMIT)
    assert_limited(await get_all(limited.client, stranger), retry_after=48)


async def test_the_next_window_frees_the_limit_and_retry_after_counts_down(
    limited: Limited,
) -> None:
    tenant = await limited.tenants.create()
    await spend(limited, tenant, LIMIT)
    assert_limited(await get_all(limited.client, tenant), retry_after=48)

    limited.clock.now = WINDOW_START + 30
    assert_limited(await get_all(limited.client, tenant), retry_after=30)
    limited.clock.now = WINDOW_START + WINDOW - 0.5
    assert_limited(await get_all(limited.client, tenant), retry_after=1)

    limited.clock.now = WINDOW_START + WINDOW
    await spend(limited, tenant, LIMIT)
    assert_limited(await get_all(limited.client, tenant), retry_after=60)


async def test_a_window_length_can_be_set(settings: Settings) -> None:
    async with app_with(settings, rate_limit_per_minute=2, rate_limit_window_seconds=10) as (
        app,
        client,
    ):
        app.state.rate_limiter.clock = clock = FakeClock(WINDOW_START + 3.5)
        tenant = await TenantFactory(app).create()
        assert [(await get_all(client, tenant)).status_code for _ in range(3)] == [200, 200, 429]
        assert_limited(await get_all(client, tenant), retry_after=7)
        clock.now = WINDOW_START + 10
        assert (await get_all(client, tenant)).status_code == 200


async def test_requests_without_valid_credentials_are_not_counted(limited: Limited) -> None:
    tenant = await limited.tenants.create()
    url = Paths("v1", tenant.bot).get_all
    forged = {**tenant.headers(), "auth": tenant.token(sub="u-tester") + "x"}
    for headers in [{}, forged, {"auth": "not-a-jwt"}] * LIMIT:
        response = await limited.client.get(url, headers=headers)
        assert_failure(response, 401, "invalid_credentials", 4002)

    await spend(limited, tenant, LIMIT)
    assert_limited(await get_all(limited.client, tenant), retry_after=48)


async def test_authenticated_requests_count_whatever_their_answer(limited: Limited) -> None:
    tenant = await limited.tenants.create()
    paths = Paths("v2", tenant.bot)
    answers = [
        await limited.client.get(paths.get_all, headers=tenant.headers(iid="st-other")),
        await limited.client.get(paths.list("cl-unknown"), headers=tenant.headers()),
        await limited.client.post(paths.create, json={"name": ""}, headers=tenant.headers()),
    ]
    assert [response.status_code for response in answers] == [403, 404, 400]

    await spend(limited, tenant, LIMIT - len(answers))
    assert_limited(await get_all(limited.client, tenant), retry_after=48)


async def test_operations_routes_are_never_limited(limited: Limited) -> None:
    tenant = await limited.tenants.create()
    await spend(limited, tenant, LIMIT)
    assert_limited(await get_all(limited.client, tenant), retry_after=48)

    for path in ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"] * 2:
        response = await limited.client.get(path, headers=tenant.headers())
        assert response.status_code == 200, f"{path}: {response.text[:200]}"


async def test_the_limit_is_off_by_default(
    app: FastAPI, client: AsyncClient, tenant: Tenant
) -> None:
    assert Settings().rate_limit_per_minute == 0
    assert app.state.settings.rate_limit_per_minute == 0

    for index in range(3 * LIMIT):
        response = await get_all(client, tenant, ("v1", "v2")[index % 2])
        assert response.status_code == 200, response.text
    async with app.state.sessionmaker() as session:
        counted = await session.execute(
            select(RateLimitWindow).where(RateLimitWindow.account_id == tenant.account_id)
        )
        assert counted.all() == []


async def test_concurrent_requests_admit_exactly_the_limit(limited: Limited) -> None:
    tenant = await limited.tenants.create()

    responses = await asyncio.gather(*(get_all(limited.client, tenant) for _ in range(4 * LIMIT)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * LIMIT + [429] * (3 * LIMIT)
    assert await limited.rows(tenant.account_id) == [(WINDOW_START, 4 * LIMIT)]


async def test_only_the_current_and_previous_windows_are_kept(limited: Limited) -> None:
    tenant = await limited.tenants.create()
    for window in range(4):
        limited.clock.now = WINDOW_START + window * WINDOW + 1
        await spend(limited, tenant, 2)

    last = WINDOW_START + 3 * WINDOW
    assert await limited.rows(tenant.account_id) == [(last - WINDOW, 2), (last, 2)]


def test_retry_after_is_a_header_of_the_error_only() -> None:
    assert RateLimited(retry_after_seconds=17).headers() == {"Retry-After": "17"}
    assert RateLimited(retry_after_seconds=17).status_code == 429


# ---------------------------------------------------------------- several processes

PROCESS_LIMIT = 20
PROCESS_WINDOW = 3600
# Long enough that the requests below cannot straddle two windows (see the wait).
REQUESTS_TAKE_AT_MOST = 60.0


async def test_the_limit_holds_across_two_server_processes(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    tenant = await own.tenants.create()
    env = service_settings(
        tmp_path,
        workers=0,
        rate_limit_per_minute=PROCESS_LIMIT,
        rate_limit_window_seconds=PROCESS_WINDOW,
    )
    servers = [started.serve(own.url, env), started.serve(own.url, env)]
    left_in_window = PROCESS_WINDOW - time.time() % PROCESS_WINDOW
    if left_in_window < REQUESTS_TAKE_AT_MOST:
        await asyncio.sleep(left_in_window + 1)

    async with (
        httpx.AsyncClient(base_url=servers[0].base_url, timeout=30) as first,
        httpx.AsyncClient(base_url=servers[1].base_url, timeout=30) as second,
    ):
        url = Paths("v1", tenant.bot).get_all
        # Requests alternate between the processes, several in flight at once.
        responses: list[Response] = []
        for _ in range(6):
            responses += await asyncio.gather(
                *(
                    (first, second)[index % 2].get(url, headers=tenant.headers())
                    for index in range(10)
                )
            )

    accepted = [response for response in responses if response.status_code == 200]
    refused = [response for response in responses if response.status_code != 200]
    assert len(accepted) == PROCESS_LIMIT, started.outputs()
    assert {response.url.port for response in accepted} == {
        httpx.URL(server.base_url).port for server in servers
    }
    for response in refused:
        errors = assert_failure(response, 429, "rate_limited")
        assert errors[0]["msg"] == KORE_TEXT
        assert 1 <= int(response.headers["retry-after"]) <= PROCESS_WINDOW
