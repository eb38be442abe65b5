"""Stored campaigns rendered as Kore.ai's wire shapes (reference/kore-docs-notes.md §5)."""

from __future__ import annotations

from typing import Any

from contactlists.campaigns.schemas import (
    CampaignOut,
    CampaignStatusOut,
    Trigger,
    TriggerResult,
    VoiceCampaignCreated,
)
from contactlists.campaigns.service import CampaignView
from contactlists.models.campaigns import Campaign

TRIGGER_MESSAGES: dict[str, str] = {
    "play": "Campaign Started",
    "pause": "Campaign Paused",
    "resume": "Campaign Resumed",
    "stop": "Campaign Stopped",
}
# What Kore.ai's SMS stop response names instead of an instance: the kind of run it was.
SMS_EXECUTION_TYPE = "NORMAL"


def _wire_fields(view: CampaignView) -> dict[str, Any]:
    """Every field either shape may show, by wire name; each shape picks its own, in its order."""
    campaign = view.record
    return {
        **campaign.document,
        "_id": campaign.id,
        "id": campaign.id,
        "name": campaign.name,
        "lname": campaign.lname,
        "description": campaign.description,
        "dncLists": view.references.dnc,
        "priority": campaign.priority,
        "dialingMode": campaign.dialing_mode,
        "status": campaign.status,
        "createdAt": campaign.created_at,
        "updatedAt": campaign.updated_at,
        "contactLists": view.references.contact_lists,
        "campaignType": campaign.campaign_type,
        "campaignInstanceId": campaign.instance_id,
        "createdBy": campaign.created_by,
        "updatedBy": campaign.updated_by,
    }


def full(view: CampaignView) -> CampaignOut:
    return CampaignOut.model_validate(_wire_fields(view))


def created(view: CampaignView) -> VoiceCampaignCreated | CampaignOut:
    if view.record.campaign_type == "voice":
        return VoiceCampaignCreated.model_validate(_wire_fields(view))
    return full(view)


def status(campaign: Campaign) -> CampaignStatusOut:
    return CampaignStatusOut(id=campaign.id, status=campaign.status, name=campaign.name)


def triggered(campaign: Campaign, action: Trigger) -> TriggerResult:
    """Kore.ai's start and stop answers; pause answers like stop and resume like start."""
    voice = campaign.campaign_type == "voice"
    starting = action in ("play", "resume")
    return TriggerResult(
        status=campaign.status,
        message=TRIGGER_MESSAGES[action],
        totalCallsCompleted=0 if voice and action == "play" else None,
        updatedAt=campaign.updated_at,
        campaignInstanceId=campaign.instance_id if voice else None,
        campaignExecutionType=None if voice or starting else SMS_EXECUTION_TYPE,
    )
