"""Wire schemas of the DNC check (CONTRACT §8). Imports only pydantic, so the SDK reuses them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_CHECK = 50_000
# A phone number as a client may write it; longer text is no number.
MAX_NUMBER_TEXT = 64


class DncCheck(BaseModel):
    """Body of ``POST {prefix}/dnc/check``."""

    model_config = ConfigDict(extra="ignore")

    phoneNumbers: Annotated[
        list[Annotated[str, Field(max_length=MAX_NUMBER_TEXT)]],
        Field(min_length=1, max_length=MAX_CHECK),
    ]


class DncResult(BaseModel):
    phoneNumber: str
    e164: str | None
    dnc: bool
    lists: list[str]


class DncResults(BaseModel):
    results: list[DncResult]


class DncCheckAnswer(BaseModel):
    """The check's envelope: a status and the results, in the order sent."""

    status: Literal["success"] = "success"
    data: DncResults
