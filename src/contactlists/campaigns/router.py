"""Campaign routes (CONTRACT §5), mounted once per path family, and the trigger paths.

Responses are rendered here rather than through ``response_model``: their keys depend on the
campaign's type (voice or SMS) and absent keys are left out, as in Kore.ai's samples.

The status route (``…/{id}/status``) is in ``dialer/router.py``: its ``view=contacts`` reads
the dialing record, which lives above campaigns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, TypeAdapter

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.campaigns import render, service
from contactlists.campaigns.schemas import (
    CampaignBody,
    CampaignOut,
    CampaignPage,
    CampaignType,
    CampaignUpdated,
    GetAllCampaigns,
    Trigger,
    TriggerResult,
    VoiceCampaignCreated,
    body_model,
    cross_field_problems,
)
from contactlists.deps import SessionDep, SettingsDep
from contactlists.errors import ValidationFailed
from contactlists.schemas import Success
from contactlists.wire import (
    CampaignId,
    FamilyDep,
    PathFamily,
    Shape,
    body_openapi,
    include_under,
    json_body,
    validate_body,
)

TypeQuery = Annotated[
    CampaignType | None, Query(description="`voice` or `sms`; must be the campaign's type.")
]
TriggerQuery = Annotated[Trigger, Query(description="`play`, `pause`, `resume` or `stop`.")]

# Kore.ai prints voice start/stop under these prefixes besides the two families (notes §3.2).
# (prefix, tag, operation id suffix)
TRIGGER_ONLY_PREFIXES = (
    ("/campaign/api/v1/public/{bot}/campaign", "v1", "campaign_v1"),
    ("/api/v2/public/{bot}/campaign", "v2", "api_v2"),
)
# Kore.ai's text, with its two spaces.
GET_ALL_MESSAGE = "Campaign  retrieved successfully"


class _AnyObject(BaseModel):
    """A JSON object, kept as it is: the campaign's type decides which model validates it."""

    model_config = ConfigDict(extra="allow")

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/…`` reference replaced by its definition (OpenAPI docs)."""
    if isinstance(schema, dict):
        reference = schema.get("$ref", "")
        if reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    return schema


def _campaign_body_openapi() -> dict[str, Any]:
    schema = TypeAdapter(CampaignBody).json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inlined}}}}


def _json(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", by_alias=True, exclude_none=True))


def _validated(raw: _AnyObject, campaign_type: CampaignType, family: PathFamily) -> CampaignBody:
    body = validate_body(body_model(campaign_type), raw.fields())
    # v2 documents dncLists as required for voice campaigns; v1 does not show it at all.
    dnc_required = family.shape is Shape.V2 and campaign_type == "voice"
    problems = cross_field_problems(body, campaign_type, dnc_required=dnc_required)
    if problems:
        raise ValidationFailed.of(problems)
    return body


def _type_of_new_campaign(query: CampaignType | None, raw: _AnyObject) -> CampaignType:
    """The query's campaignType, else the body's (checked against each other later)."""
    if query is not None:
        return query
    in_body = raw.fields().get("campaignType")
    if in_body in ("voice", "sms"):
        return "voice" if in_body == "voice" else "sms"
    raise ValidationFailed.field("campaignType", "campaignType (voice or sms) is required")


# The trigger routes are mounted under each family with the rest, and alone under the prefixes
# of TRIGGER_ONLY_PREFIXES.
trigger_router = APIRouter()
router = APIRouter()


async def trigger_campaign(
    caller: WriteCaller,
    campaign_id: CampaignId,
    trigger: TriggerQuery,
    session: SessionDep,
    campaignType: TypeQuery = None,
) -> Any:
    """Start (play), pause, resume or stop a campaign; answers with its new status."""
    moved = await service.trigger(session, caller, campaign_id, trigger, campaignType)
    return _json(render.triggered(moved, trigger))


# POST {prefix}/{id} is the trigger; Kore.ai also prints …/trigger/{id}, and …//trigger/{id}
# (its v2 SMS stop sample, two slashes as printed: a client copying it must work; the document
# lists it once, without the typo). The id convertor matches only cd-… ids, so none of them
# shadows getAllCampaignDetails or the status route.
for _path, _form, _documented in (
    ("/{campaign_id:campaign_id}", "by_id", True),
    ("/trigger/{campaign_id:campaign_id}", "trigger_path", True),
    ("//trigger/{campaign_id:campaign_id}", "trigger_path_as_printed", False),
):
    for _router in (router, trigger_router):
        _router.add_api_route(
            _path,
            trigger_campaign,
            methods=["POST"],
            name=f"trigger_campaign_{_form}",
            summary="Trigger Campaign",
            response_model=None,
            responses={200: {"model": TriggerResult}},
            include_in_schema=_documented,
        )


@router.post(
    "",
    response_model=None,
    responses={200: {"model": Success[VoiceCampaignCreated | CampaignOut]}},
    openapi_extra=_campaign_body_openapi(),
)
async def create_campaign(
    caller: WriteCaller,
    raw: Annotated[_AnyObject, json_body(_AnyObject)],
    session: SessionDep,
    settings: SettingsDep,
    family: FamilyDep,
    campaignType: TypeQuery = None,
) -> Any:
    """Create a voice or SMS campaign over contact lists named in the body."""
    campaign_type = _type_of_new_campaign(campaignType, raw)
    body = _validated(raw, campaign_type, family)
    created = await service.create(
        session, caller, body, campaign_type, default_region=settings.default_region
    )
    return _json(
        Success(
            message=f"Campaign {created.record.name} creation in progress",
            data=render.created(created),
        )
    )


@router.post(
    "/getAllCampaignDetails",
    response_model=None,
    responses={200: {"model": Success[CampaignPage]}},
    openapi_extra=body_openapi(GetAllCampaigns),
)
async def get_all_campaigns(
    caller: ReadCaller,
    query: Annotated[GetAllCampaigns, json_body(GetAllCampaigns)],
    session: SessionDep,
) -> Any:
    """A page of the bot's campaigns of one type, filtered and sorted."""
    found, skip, limit, total = await service.get_all(session, caller, query)
    page = CampaignPage(
        results=[render.full(item) for item in found],
        skip=skip,
        limit=limit,
        hasMore=skip + len(found) < total,
        totalPages=-(-total // limit),
        totalResults=total,
    )
    return _json(Success(message=GET_ALL_MESSAGE, data=page))


@router.get(
    "/{campaign_id:campaign_id}",
    response_model=None,
    responses={200: {"model": Success[CampaignOut]}},
)
async def get_campaign(caller: ReadCaller, campaign_id: CampaignId, session: SessionDep) -> Any:
    """Get one campaign."""
    found = await service.get(session, caller, campaign_id)
    return _json(
        Success(
            message=f"Campaign {found.record.name} retrieved successfully",
            data=render.full(found),
        )
    )


@router.put(
    "/{campaign_id:campaign_id}",
    response_model=None,
    responses={200: {"model": CampaignUpdated}},
    openapi_extra=_campaign_body_openapi(),
)
async def update_campaign(
    caller: WriteCaller,
    campaign_id: CampaignId,
    raw: Annotated[_AnyObject, json_body(_AnyObject)],
    session: SessionDep,
    settings: SettingsDep,
    family: FamilyDep,
    campaignType: TypeQuery = None,
) -> Any:
    """Replace a campaign's fields and lists (the same body as create)."""
    current = await service.find(session, caller, campaign_id, campaignType)
    campaign_type: CampaignType = "voice" if current.campaign_type == "voice" else "sms"
    body = _validated(raw, campaign_type, family)
    updated = await service.update(
        session, caller, campaign_id, body, default_region=settings.default_region
    )
    return _json(
        CampaignUpdated(
            message=f"Campaign {updated.record.name} details updated successfully",
            # Kore.ai's SMS update has no top-level id.
            id=updated.record.id if campaign_type == "voice" else None,
            data=render.full(updated),
        )
    )


@router.delete(
    "/{campaign_id:campaign_id}",
    response_model=None,
    responses={200: {"model": Success[CampaignOut]}},
)
async def delete_campaign(
    caller: WriteCaller,
    campaign_id: CampaignId,
    session: SessionDep,
    campaignType: TypeQuery = None,
) -> Any:
    """Delete a campaign that is not Active; answers with the campaign as it was."""
    deleted = await service.delete(session, caller, campaign_id, campaignType)
    return _json(
        Success(
            message=f"Campaign {deleted.record.name} deleted successfully",
            data=render.full(deleted),
        )
    )


def _suffixed(suffix: str) -> Callable[[APIRoute], str]:
    def operation_id(route: APIRoute) -> str:
        return f"{route.name}_{suffix}"

    return operation_id


def include_trigger_only_prefixes(app: FastAPI) -> None:
    """The trigger routes under the prefixes that serve nothing else."""
    for prefix, tag, operation_suffix in TRIGGER_ONLY_PREFIXES:
        include_under(
            app,
            trigger_router,
            prefix=prefix,
            tags=[f"campaigns ({tag})"],
            operation_id=_suffixed(operation_suffix),
        )
