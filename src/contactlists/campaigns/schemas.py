"""Wire schemas of campaigns (CONTRACT §5; reference/kore-docs-notes.md §5), Kore.ai's key order.

Requests are validated field by field here; the rules that relate several fields (what a
dialing mode or SMS format needs) are in :func:`cross_field_problems`, so each problem
still becomes its own entry naming its field. Imports only pydantic and the pure phone and
time-zone rules, so the SDK can reuse these models.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from contactlists.contacts.phones import is_time_zone
from contactlists.errors import Problem
from contactlists.lists.schemas import Description, ListName
from contactlists.schemas import MAX_SKIP, Timestamp

CampaignType = Literal["voice", "sms"]
Priority = Literal["1", "2", "3", "4", "5"]
DialingMode = Literal["Agentless", "Progressive", "Preview"]
CampaignStatus = Literal[
    "Active", "Completed", "Ready", "Paused", "Preparing", "Stopped", "Scheduled", "Rescheduled"
]
Trigger = Literal["play", "pause", "resume", "stop"]
Day = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
SortOrder = Literal["asc", "desc"]

# A campaign names few lists; the bound keeps one request's row locks few.
MAX_CONTACT_LISTS = 100
MAX_CALLING_DAYS = 7 * 24
MAX_TEXT = 256
# SMS text, plain or Base64 (as v2 samples send it), with room for long concatenated messages.
MAX_MESSAGE = 8192
GET_ALL_DEFAULT_LIMIT = 50
GET_ALL_MAX_LIMIT = 1000

# "9:00 AM", as Kore.ai's samples write calling hours.
CLOCK_TIME = re.compile(r"^(1[0-2]|0?[1-9]):([0-5][0-9]) ?([AaPp][Mm])$")


def minutes_of_day(clock: str) -> int:
    """Minutes since midnight of a "9:00 AM" style time (already validated)."""
    match = CLOCK_TIME.match(clock)
    assert match is not None
    hour, minute, half = int(match[1]) % 12, int(match[2]), match[3].upper()
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def _clock_time(value: str) -> str:
    if not CLOCK_TIME.match(value):
        raise ValueError('must be a time like "9:00 AM"')
    return value


def _time_zone(value: str) -> str:
    if not is_time_zone(value):
        raise ValueError(f"{value} is not an IANA time-zone name (e.g. America/New_York)")
    return value


def _machine_detect(value: Any) -> bool | str | None:
    # One message for the two documented forms, rather than one error per form of a union.
    if value is None or isinstance(value, bool) or value in MACHINE_DETECT_VALUES:
        return value  # type: ignore[no-any-return]
    raise ValueError('must be true, false, "no", "detect" or "disconnect"')


MACHINE_DETECT_VALUES = ("no", "detect", "disconnect")
ClockTime = Annotated[str, Field(max_length=16), AfterValidator(_clock_time)]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
CallerNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9]{3,20}$")]


class _Request(BaseModel):
    # Unknown keys are ignored, as everywhere else in the API.
    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- request parts


class CallingDay(_Request):
    day: Day
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> CallingDay:
        if minutes_of_day(self.start) >= minutes_of_day(self.end):
            raise ValueError("start must be before end")
        return self


class CallingHours(_Request):
    frequency: Literal["WEEKLY", "DAILY", "CUSTOM"]
    timezone: TimeZoneName
    days: Annotated[list[CallingDay], Field(min_length=1, max_length=MAX_CALLING_DAYS)]


class CallerId(_Request):
    phoneNumber: CallerNumber


class SmsDialingStrategy(_Request):
    callerId: CallerId
    callingHours: CallingHours


class VoiceDialingStrategy(SmsDialingStrategy):
    dialingOrder: Literal["FIFO", "LIFO"]
    maxAttemptsPerRecord: Annotated[StrictInt, Field(ge=1, le=100)]
    defaultRetryPeriod: Annotated[StrictInt, Field(ge=1, le=1440)]  # minutes
    maxRingTime: Annotated[StrictInt, Field(ge=5, le=120)]  # seconds


class Schedule(_Request):
    isSchedulingEnabled: StrictBool = False
    isRecurrenceEnabled: StrictBool = False


class DncListRef(_Request):
    name: ListName


class SmsMessage(_Request):
    templateId: Text | None = None
    template_name: Text | None = None
    message: Annotated[str, Field(max_length=MAX_MESSAGE)] | None = None


# ---------------------------------------------------------------- requests


class _CampaignBody(_Request):
    name: ListName
    description: Description = ""
    contactLists: Annotated[list[ListName], Field(min_length=1, max_length=MAX_CONTACT_LISTS)]
    dncLists: DncListRef | None = None
    priority: Priority
    # Checked against the campaignType query parameter by cross_field_problems.
    campaignType: CampaignType | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    experienceFlowName: Text | None = None


class VoiceCampaignBody(_CampaignBody):
    """Body of a voice campaign's create or update (Agentless, Progressive or Preview)."""

    dialingMode: DialingMode
    dialingStrategy: VoiceDialingStrategy
    queue_name: Text | None = None
    maxSkips: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    # v1 documents a boolean; v2 Agentless a string.
    enableMachineDetect: Annotated[Any, AfterValidator(_machine_detect)] = None


class SmsCampaignBody(_CampaignBody):
    """Body of an SMS campaign's create or update (simple, template or advanced format)."""

    format: Literal["simple", "advanced"] = "simple"
    message: SmsMessage | None = None
    dialingStrategy: SmsDialingStrategy


CampaignBody = VoiceCampaignBody | SmsCampaignBody


def body_model(campaign_type: CampaignType) -> type[CampaignBody]:
    return VoiceCampaignBody if campaign_type == "voice" else SmsCampaignBody


def cross_field_problems(
    body: CampaignBody, campaign_type: CampaignType, *, dnc_required: bool
) -> list[Problem]:
    """What the fields are missing together: the needs of a dialing mode or an SMS format."""
    problems: list[Problem] = []
    if body.campaignType is not None and body.campaignType != campaign_type:
        problems.append(
            Problem(
                f"campaignType in the body ({body.campaignType}) does not match "
                f"the campaignType query parameter ({campaign_type})",
                "campaignType",
            )
        )
    if dnc_required and body.dncLists is None:
        problems.append(Problem("dncLists is required for a voice campaign", "dncLists"))
    if isinstance(body, VoiceCampaignBody):
        needs = {
            "Agentless": ["experienceFlowName"],
            "Progressive": ["queue_name"],
            "Preview": ["queue_name", "maxSkips"],
        }[body.dialingMode]
        problems.extend(
            Problem(f"{field} is required when dialingMode is {body.dialingMode}", field)
            for field in needs
            if getattr(body, field) is None
        )
    elif body.format == "advanced":
        if body.experienceFlowName is None:
            problems.append(
                Problem(
                    "experienceFlowName is required when format is advanced", "experienceFlowName"
                )
            )
    elif body.message is None or not (body.message.message or body.message.templateId):
        problems.append(
            Problem(
                "message.message (or message.templateId) is required for an SMS campaign", "message"
            )
        )
    return problems


def _number_as_text(value: Any) -> Any:
    # Kore.ai's get-all page shows priorities as numbers 1..5, its campaigns store them as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _empty_as_absent(value: Any) -> Any:
    # Kore.ai documents `limit` as "number or empty string".
    return None if value == "" else value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:00-14:00 is a valid date whose UTC time is not (year 10000).
        raise ValueError("is out of the range of dates") from None


def _text_only(value: Any) -> Any:
    # Pydantic would read a number as seconds since 1970; the document promises a date string.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


DateText = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_as_utc)]


def _distinct(values: list[Any]) -> list[Any]:
    # Each value becomes one bound parameter, and PostgreSQL takes at most 32,767 in a query.
    return list(dict.fromkeys(values))


# A filter names each value at most once, so it never needs more entries than this; a longer
# list is refused before any of its values is validated (pydantic stops at the length).
MAX_FILTER_VALUES = 20


class CampaignFilters(_Request):
    status: (
        Annotated[
            list[CampaignStatus], Field(max_length=MAX_FILTER_VALUES), AfterValidator(_distinct)
        ]
        | None
    ) = None
    priority: (
        Annotated[
            list[Annotated[Priority, BeforeValidator(_number_as_text)]],
            Field(max_length=MAX_FILTER_VALUES),
            AfterValidator(_distinct),
        ]
        | None
    ) = None
    dialingMode: (
        Annotated[list[DialingMode], Field(max_length=MAX_FILTER_VALUES), AfterValidator(_distinct)]
        | None
    ) = None


class SortBy(_Request):
    name: SortOrder | None = None
    createdAt: SortOrder | None = None
    updatedAt: SortOrder | None = None

    @model_validator(mode="after")
    def _one_key(self) -> SortBy:
        if len(self.model_dump(exclude_none=True)) > 1:
            raise ValueError("sort by one of name, createdAt or updatedAt")
        return self

    def order(self) -> tuple[str, SortOrder]:
        """The column and direction; the most recently updated first when none is given."""
        for key, direction in self.model_dump(exclude_none=True).items():
            return key, direction
        return "updatedAt", "desc"


class GetAllCampaigns(_Request):
    """Body of getAllCampaignDetails."""

    type: CampaignType
    # Bounded so that (page - 1) * limit stays a 64-bit integer, which both databases need.
    skip: Annotated[StrictInt, Field(ge=0, le=MAX_SKIP)] | None = None
    page: Annotated[StrictInt, Field(ge=1, le=MAX_SKIP // GET_ALL_MAX_LIMIT)] | None = None
    limit: Annotated[
        Annotated[StrictInt, Field(ge=1, le=GET_ALL_MAX_LIMIT)] | None,
        BeforeValidator(_empty_as_absent),
    ] = None
    sortBy: SortBy = Field(default_factory=SortBy)
    filters: CampaignFilters = Field(default_factory=CampaignFilters)
    startDate: DateText | None = None
    endDate: DateText | None = None

    def window(self) -> tuple[int, int]:
        """(skip, limit): ``skip`` wins over ``page`` when both are given."""
        limit = self.limit or GET_ALL_DEFAULT_LIMIT
        if self.skip is not None:
            return self.skip, limit
        return ((self.page or 1) - 1) * limit, limit


# ---------------------------------------------------------------- responses


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DncListOut(_Wire):
    id: str
    name: str


class CampaignOut(_Wire):
    """A campaign as get, update, delete and get-all show it (and SMS create).

    Kore.ai's keys in the order of its get sample, each mode's own keys where its samples put
    them, then ours (extension): what Kore.ai keeps but does not print in these samples.
    Absent keys (None) are left out.
    """

    id: str = Field(alias="_id")
    name: str
    lname: str
    description: str
    dncLists: DncListOut | None = None
    priority: str
    dialingMode: str | None = None
    dialingStrategy: dict[str, Any]
    experienceFlowName: str | None = None
    queue_name: str | None = None
    maxSkips: int | None = None
    status: str
    createdAt: Timestamp
    updatedAt: Timestamp
    schedule: dict[str, Any]
    contactLists: list[str]
    enableMachineDetect: bool | str | None = None
    format: str | None = None
    message: dict[str, Any] | None = None
    campaignType: CampaignType
    campaignInstanceId: str | None = None
    createdBy: str
    updatedBy: str


class VoiceCampaignCreated(_Wire):
    """The voice create response: `id` (not `_id`) after the timestamps, as Kore.ai's sample."""

    name: str
    lname: str
    description: str
    dncLists: DncListOut | None = None
    priority: str
    dialingMode: str | None = None
    dialingStrategy: dict[str, Any]
    experienceFlowName: str | None = None
    queue_name: str | None = None
    status: str
    maxSkips: int | None = None
    createdAt: Timestamp
    updatedAt: Timestamp
    id: str
    contactLists: list[str]
    enableMachineDetect: bool | str | None = None
    schedule: dict[str, Any]
    campaignType: CampaignType
    createdBy: str
    updatedBy: str


class CampaignUpdated(BaseModel):
    """Update's envelope: Kore.ai adds the campaign id beside `data` (voice)."""

    status: Literal["success"] = "success"
    message: str
    id: str | None = None
    data: CampaignOut


class CampaignStatusOut(_Wire):
    id: str
    status: str
    name: str


class CampaignPage(_Wire):
    results: list[CampaignOut]
    skip: int
    limit: int
    hasMore: bool
    totalPages: int
    totalResults: int


class TriggerResult(_Wire):
    """A trigger's answer: flat, `status` is the campaign's new status (not "success")."""

    status: str
    message: str
    totalCallsCompleted: int | None = None
    updatedAt: Timestamp
    campaignInstanceId: str | None = None
    campaignExecutionType: str | None = None
