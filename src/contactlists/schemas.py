"""Wire types shared by every feature: the success envelope and the timestamp format.

Imports only pydantic, so the SDK can reuse it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, PlainSerializer

# The largest offset a page may start at: far beyond any real list, and (page - 1) * limit
# stays a 64-bit integer, which both databases need (a larger one was a 500).
MAX_SKIP = 10**12

T = TypeVar("T")


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as Kore.ai writes them."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str, when_used="json")
]


class Success(BaseModel, Generic[T]):
    status: Literal["success"] = "success"
    message: str
    data: T
