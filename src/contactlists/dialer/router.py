"""The dialer routes (CONTRACT §9), mounted once per path family."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.campaigns import render as campaign_render
from contactlists.campaigns import service as campaigns
from contactlists.campaigns.schemas import CampaignStatusOut
from contactlists.config import Settings
from contactlists.deps import ClockDep, SessionDep, SettingsDep
from contactlists.dialer import kore, service
from contactlists.dialer.schemas import (
    MAX_CALLBACKS,
    Answer,
    CallbackRequestItem,
    CallbackResult,
    ContactsPageRequest,
    ContactsStatusPage,
    LeasedContacts,
    NextRequest,
    OutcomeRequest,
    OutcomeResults,
    ScheduleAnswer,
    ScheduleRequest,
    Summary,
)
from contactlists.dialer.windows import LocalHours
from contactlists.errors import ValidationFailed
from contactlists.wire import (
    CampaignId,
    body_openapi,
    check_json_content_type,
    json_body,
    loads,
    read_body,
    validate_body,
    validation_failure,
)

router = APIRouter()


def _local_hours(settings: Settings) -> LocalHours:
    return LocalHours.parse(settings.local_calling_hours)


async def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work committed apart from the request's transaction (admission, on PostgreSQL)."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessions


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)]


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
    sessions: SessionmakerDep,
) -> Any:
    """Lease up to `limit` contacts that may be called now, in the contract's order."""
    contacts = await service.next_contacts(
        session,
        caller,
        campaign_id,
        body,
        now=clock(),
        local_hours=_local_hours(settings),
        apart=sessions,
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
    sessions: SessionmakerDep,
) -> Any:
    """The campaign's contacts counted by what the dialer would do with them now."""
    counted = await service.summary(
        session,
        caller,
        campaign_id,
        now=clock(),
        local_hours=_local_hours(settings),
        apart=sessions,
    )
    return Answer(data=counted)


# ---------------------------------------------------------------- Kore.ai's routes


class StatusAnswer(BaseModel):
    """``view=status``: Kore.ai's answer has no message."""

    status: str = "success"
    data: CampaignStatusOut


async def _raw_body(request: Request, settings: SettingsDep) -> bytes:
    """The body, read once the caller passed; parsed by the route, whose query decides how."""
    raw = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    if raw.strip():
        check_json_content_type(request.headers.get("content-type"))
    return raw


RawBody = Annotated[bytes, Depends(_raw_body)]


def _json(raw: bytes) -> Any:
    try:
        return loads(raw)
    except (ValueError, RecursionError) as error:
        raise ValidationFailed.field("body", f"The body is not valid JSON: {error}") from None


@router.post(
    "/{campaign_id:campaign_id}/status",
    response_model=None,
    responses={200: {"model": StatusAnswer | Answer[ContactsStatusPage]}},
    openapi_extra=body_openapi(ContactsPageRequest, required=False),
)
async def campaign_status(
    caller: ReadCaller,
    campaign_id: CampaignId,
    raw: RawBody,
    session: SessionDep,
    view: Annotated[
        Literal["status", "contacts"],
        Query(description="`status`: the campaign's status; `contacts`: each contact's outcome."),
    ] = "status",
) -> Any:
    """A campaign's status and name, or (`view=contacts`) a page of its contacts' outcomes."""
    # The body is judged the same way for both views, so it means one thing whatever the view.
    data = _json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "The body must be a JSON object.")
    query = validate_body(ContactsPageRequest, data)
    if view == "status":
        found = await campaigns.status(session, caller, campaign_id)
        return JSONResponse(
            StatusAnswer(data=campaign_render.status(found)).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        )
    page = await kore.contacts_status(session, caller, campaign_id, query)
    return JSONResponse(Answer(data=page).model_dump(mode="json"))


CALLBACKS = TypeAdapter(list[CallbackRequestItem])


@router.post(
    "/{campaign_id:campaign_id}/callContactAt",
    response_model=Answer[list[CallbackResult]],
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CALLBACKS.json_schema()}},
        }
    },
)
async def call_contact_at(
    caller: WriteCaller,
    campaign_id: CampaignId,
    raw: RawBody,
    session: SessionDep,
    clock: ClockDep,
) -> Any:
    """Schedule callbacks: each item names a contact and the time to call it."""
    data = _json(raw)
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_CALLBACKS:
        raise ValidationFailed.field(
            "body", f"The body must be an array of 1 to {MAX_CALLBACKS} callbacks."
        )
    try:
        items = CALLBACKS.validate_python(data)
    except ValidationError as error:
        raise validation_failure(error.errors(include_url=False)) from None
    results = await kore.call_contacts_at(session, caller, campaign_id, items, now=clock())
    return Answer(data=results)


@router.post("/schedule", response_model=ScheduleAnswer)
async def schedule_campaign(
    caller: WriteCaller,
    raw: RawBody,
    session: SessionDep,
    clock: ClockDep,
    enableSchedule: Annotated[Literal["true", "false"], Query(description="`true` or `false`.")],
    campaignName: Annotated[
        str, Query(min_length=1, max_length=48, description="The campaign's name.")
    ],
) -> Any:
    """Enable a campaign's schedule (start, end, recurrence) or disable it."""
    if "\x00" in campaignName:
        raise ValidationFailed.field("campaignName", "must not contain NUL characters")
    enable = enableSchedule == "true"
    body = None
    if enable:
        data = _json(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValidationFailed.field("body", "The body must be a JSON object.")
        body = validate_body(ScheduleRequest, data)
    found = await kore.schedule(session, caller, campaignName, enable, body, now=clock())
    message = (
        f"Campaign {found.name} scheduled successfully"
        if enable
        else f"Campaign {found.name} schedule has been disabled successfully"
    )
    return ScheduleAnswer(message=message, id=found.id)
