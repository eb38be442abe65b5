"""The DNC check route (CONTRACT §8), mounted once per path family."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from contactlists.auth import ReadCaller
from contactlists.deps import ClockDep, SessionDep, SettingsDep
from contactlists.dnc import service
from contactlists.dnc.schemas import DncCheck, DncCheckAnswer, DncResults
from contactlists.wire import body_openapi, json_body

router = APIRouter()


@router.post(
    "/dnc/check",
    response_model=DncCheckAnswer,
    openapi_extra=body_openapi(DncCheck),
)
async def check_dnc(
    caller: ReadCaller,
    body: Annotated[DncCheck, json_body(DncCheck)],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Which of up to 50,000 numbers the bot's DNC lists hold now, in the order sent."""
    results = await service.check(
        session, caller, body.phoneNumbers, default_region=settings.default_region, now=clock()
    )
    return DncCheckAnswer(data=DncResults(results=results))
