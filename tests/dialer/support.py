"""Dialer test helpers: a held clock, an Active campaign over given contacts, the routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.support.campaigns import create_campaign, trigger, voice_body
from tests.support.contacts import add_contacts, create_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant

# A Wednesday in summer: 13:00 in New York, 10:00 in Los Angeles.
NOW = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
ALL_WEEK = {
    "frequency": "WEEKLY",
    "timezone": "America/New_York",
    "days": [
        {"day": day, "start": "12:00 AM", "end": "11:59 PM"}
        for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    ],
}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def hold_clock(app: FastAPI) -> Clock:
    clock = Clock()
    app.state.clock = clock
    return clock


def numbers(count: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    """New York numbers +1 212 200 0000 onwards."""
    return [{"phoneNumber": f"+1212{2000000 + start + n}", **extra} for n in range(count)]


@dataclass
class Dialing:
    client: AsyncClient
    tenant: Tenant
    campaign_id: str
    list_names: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{Paths('v2', self.tenant.bot).prefix}/{self.campaign_id}"

    async def next_response(self, limit: int = 100, **body: Any) -> Response:
        payload = {"limit": limit, "dialerId": "dialer-1", **body}
        return await self.client.post(
            f"{self.prefix}/dialer/next", json=payload, headers=self.tenant.headers()
        )

    async def next(self, limit: int = 100, **body: Any) -> list[dict[str, Any]]:
        response = await self.next_response(limit, **body)
        assert response.status_code == 200, response.text
        contacts: list[dict[str, Any]] = response.json()["data"]["contacts"]
        return contacts

    async def phones(self, limit: int = 100, **body: Any) -> list[str]:
        return [contact["phoneNumber"] for contact in await self.next(limit, **body)]

    async def outcome(self, *results: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post(
            f"{self.prefix}/dialer/outcome",
            json={"results": list(results)},
            headers=self.tenant.headers(),
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["data"]["results"]
        return found

    async def report(self, contacts: list[dict[str, Any]], outcome: str, **extra: Any) -> None:
        results = await self.outcome(
            *({"leaseId": c["leaseId"], "outcome": outcome, **extra} for c in contacts)
        )
        assert all(result["accepted"] for result in results), results

    async def summary(self) -> dict[str, Any]:
        response = await self.client.get(
            f"{self.prefix}/dialer/summary", headers=self.tenant.headers()
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


async def dialing(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: Callable[[], Awaitable[int]],
    contacts: list[dict[str, Any]],
    *,
    name: str = "Renewals",
    dnc: str | None = None,
    start: bool = True,
    calling_hours: dict[str, Any] | None = None,
    **strategy: Any,
) -> Dialing:
    """An Active (unless ``start=False``) voice campaign over one list of ``contacts``."""
    await create_list(client, tenant, name)
    if contacts:
        await add_contacts(client, tenant, name, contacts)
        await run_jobs()
    body = voice_body(f"{name} calls", [name], **({"dncLists": {"name": dnc}} if dnc else {}))
    body["dialingStrategy"]["callingHours"] = calling_hours or ALL_WEEK
    body["dialingStrategy"].update(strategy)
    campaign = await create_campaign(client, tenant, body)
    if start:
        response = await trigger(client, tenant, campaign["_id"], "play")
        assert response.status_code == 200, response.text
    return Dialing(client, tenant, campaign["_id"], [name])
