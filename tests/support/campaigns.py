"""Campaign paths, sample bodies (shaped like Kore.ai's samples) and request helpers."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response

from tests.support.paths import V1_PREFIX, V2_PREFIX, Paths
from tests.support.tenants import Tenant

DEFAULT_DNC = "Default Global DNC"
# The trigger paths Kore.ai prints (notes §3.2–3.3), by name.
TRIGGER_PATHS = {
    "v1 campaign": "/campaign/api/v1/public/{bot}/campaign/{id}",
    "v1 agentassist": V1_PREFIX + "/{id}",
    "v2": V2_PREFIX + "/{id}",
    "v2 trigger": V2_PREFIX + "/trigger/{id}",
    "api v2 trigger": "/api/v2/public/{bot}/campaign/trigger/{id}",
    # Kore.ai prints its v2 SMS stop path with two slashes; a client copying it must work.
    "v2 trigger as printed": V2_PREFIX + "//trigger/{id}",
}

# Kore.ai's get sample order, then ours; keys a campaign lacks are left out.
FULL_KEYS = [
    "_id", "name", "lname", "description", "dncLists", "priority", "dialingMode",
    "dialingStrategy", "experienceFlowName", "queue_name", "maxSkips", "status", "createdAt",
    "updatedAt", "schedule", "contactLists", "enableMachineDetect", "format", "message",
    "campaignType", "campaignInstanceId", "createdBy", "updatedBy",
]  # fmt: skip
VOICE_CREATED_KEYS = [
    "name", "lname", "description", "dncLists", "priority", "dialingMode", "dialingStrategy",
    "experienceFlowName", "queue_name", "status", "maxSkips", "createdAt", "updatedAt", "id",
    "contactLists", "enableMachineDetect", "schedule", "campaignType", "createdBy", "updatedBy",
]  # fmt: skip


def assert_keys_in_order(data: dict[str, Any], order: list[str]) -> None:
    """Every key of ``data`` is known and they come in ``order``'s order."""
    assert set(data) <= set(order), set(data) - set(order)
    assert list(data) == [key for key in order if key in data], list(data)


@dataclass(frozen=True)
class CampaignPaths:
    family: str
    bot: str

    @property
    def prefix(self) -> str:
        return Paths(self.family, self.bot).prefix

    @property
    def get_all(self) -> str:
        return f"{self.prefix}/getAllCampaignDetails"

    def campaign(self, campaign_id: str) -> str:
        return f"{self.prefix}/{campaign_id}"

    def status(self, campaign_id: str) -> str:
        return f"{self.prefix}/{campaign_id}/status"


CALLING_HOURS = {
    "frequency": "WEEKLY",
    "timezone": "America/New_York",
    "days": [
        {"day": "MO", "start": "9:00 AM", "end": "6:00 PM"},
        {"day": "TU", "start": "9:00 AM", "end": "6:00 PM"},
    ],
}


def voice_body(
    name: str,
    lists: list[str],
    *,
    mode: str = "Progressive",
    dnc: str | None = DEFAULT_DNC,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid voice campaign body of ``mode``, like Kore.ai's v2 samples."""
    body: dict[str, Any] = {
        "name": name,
        "description": "Renewal reminders",
        "contactLists": lists,
        "priority": "3",
        "dialingMode": mode,
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550123"},
            "callingHours": copy.deepcopy(CALLING_HOURS),
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 60,
            "maxRingTime": 30,
        },
        "schedule": {"isSchedulingEnabled": False},
        "campaignType": "voice",
    }
    if dnc is not None:
        body["dncLists"] = {"name": dnc}
    if mode == "Agentless":
        body["experienceFlowName"] = "Renewal flow"
    else:
        body["queue_name"] = "Renewals queue"
    if mode == "Preview":
        body["maxSkips"] = 2
    body.update(overrides)
    return body


def sms_body(name: str, lists: list[str], **overrides: Any) -> dict[str, Any]:
    """A valid simple-format SMS campaign body."""
    body: dict[str, Any] = {
        "name": name,
        "description": "Renewal texts",
        "contactLists": lists,
        "campaignType": "sms",
        "priority": "2",
        "format": "simple",
        "message": {"message": "Your plan renews soon."},
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550199"},
            "callingHours": copy.deepcopy(CALLING_HOURS),
        },
        "schedule": {"isSchedulingEnabled": False},
    }
    body.update(overrides)
    return body


async def post_campaign(
    client: AsyncClient, tenant: Tenant, family: str, body: Any, campaign_type: str | None
) -> Response:
    params = {"campaignType": campaign_type} if campaign_type else {}
    return await client.post(
        CampaignPaths(family, tenant.bot).prefix, params=params, json=body, headers=tenant.headers()
    )


async def create_campaign(
    client: AsyncClient, tenant: Tenant, body: dict[str, Any], family: str = "v2"
) -> dict[str, Any]:
    """Create through the API; the campaign as get shows it."""
    response = await post_campaign(client, tenant, family, body, body["campaignType"])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    campaign_id = data.get("_id") or data["id"]
    return await get_campaign(client, tenant, campaign_id, family)


async def get_campaign(
    client: AsyncClient, tenant: Tenant, campaign_id: str, family: str = "v2"
) -> dict[str, Any]:
    response = await client.get(
        CampaignPaths(family, tenant.bot).campaign(campaign_id), headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def trigger(
    client: AsyncClient,
    tenant: Tenant,
    campaign_id: str,
    action: str,
    *,
    campaign_type: str = "voice",
    path: str = "v1 campaign",
) -> Response:
    url = TRIGGER_PATHS[path].format(bot=tenant.bot, id=campaign_id)
    return await client.post(
        url,
        params={"campaignType": campaign_type, "trigger": action},
        json={},
        headers=tenant.headers(),
    )


async def get_all(
    client: AsyncClient, tenant: Tenant, body: dict[str, Any], family: str = "v2"
) -> Response:
    return await client.post(
        CampaignPaths(family, tenant.bot).get_all, json=body, headers=tenant.headers()
    )
