"""The dialer routes (CONTRACT §9), mounted once per path family."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.config import Settings
from contactlists.deps import ClockDep, SessionDep, SettingsDep
from contactlists.dialer import service
from contactlists.dialer.schemas import (
    Answer,
    LeasedContacts,
    NextRequest,
    OutcomeRequest,
    OutcomeResults,
    Summary,
)
from contactlists.dialer.windows import LocalHours
from contactlists.wire import CampaignId, body_openapi, json_body

router = APIRouter()


def _local_hours(settings: Settings) -> LocalHours:
    return LocalHours.parse(settings.local_calling_hours)


@router.post(
    "/{campaign_id:campaign_id}/dialer/next",
    response_model=Answer[LeasedContacts],
    openapi_extra=body_openapi(NextRequest),
)
async def dialer_next(
    caller: WriteCaller,
    campaign_id: CampaignId,
    body: Annotated[NextRequest, json_body(NextRequest)],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Lease up to `limit` contacts that may be called now, in the contract's order."""
    contacts = await service.next_contacts(
        session, caller, campaign_id, body, now=clock(), local_hours=_local_hours(settings)
    )
    return Answer(data=LeasedContacts(contacts=contacts))


@router.post(
    "/{campaign_id:campaign_id}/dialer/outcome",
    response_model=Answer[OutcomeResults],
    response_model_exclude_none=True,
    openapi_extra=body_openapi(OutcomeRequest),
)
async def dialer_outcome(
    caller: WriteCaller,
    campaign_id: CampaignId,
    body: Annotated[OutcomeRequest, json_body(OutcomeRequest)],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Record what happened on each lease; a repeated report counts once."""
    results = await service.report(
        session,
        caller,
        campaign_id,
        body.results,
        now=clock(),
        default_region=settings.default_region,
    )
    return Answer(data=OutcomeResults(results=results))


@router.get("/{campaign_id:campaign_id}/dialer/summary", response_model=Answer[Summary])
async def dialer_summary(
    caller: ReadCaller,
    campaign_id: CampaignId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """The campaign's contacts counted by what the dialer would do with them now."""
    counted = await service.summary(
        session, caller, campaign_id, now=clock(), local_hours=_local_hours(settings)
    )
    return Answer(data=counted)
