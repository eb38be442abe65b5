"""Wire schemas of the dialer routes (CONTRACT §9). Imports only pydantic (the SDK reuses them)."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from contactlists.schemas import Timestamp

T = TypeVar("T")

MAX_NEXT = 500
MAX_OUTCOMES = 1_000
MAX_DISPOSITIONS = 50
SHORT_TEXT = 128
DETAIL_TEXT = 512

Outcome = Literal[
    "answered",
    "no_answer",
    "busy",
    "voicemail",
    "failed",
    "completed",
    "callback",
    "do_not_call",
    "opted_out",
]


def _no_nul(value: str) -> str:
    # Neither database stores NUL in text (PostgreSQL refuses it): a 400, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _iso_text(value: object) -> object:
    # JSON carries times as ISO 8601 text; a number would be read as a Unix time otherwise.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time with its offset")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
Short = Annotated[
    str, StringConstraints(min_length=1, max_length=SHORT_TEXT), AfterValidator(_no_nul)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NextRequest(_Request):
    """Body of ``dialer/next``."""

    limit: Annotated[int, Field(ge=1, le=MAX_NEXT, strict=True)]
    leaseSeconds: Annotated[int, Field(ge=10, le=3600, strict=True)] = 300
    dialerId: Short


class LeasedContact(BaseModel):
    leaseId: str
    contactId: str
    contactListId: str
    phoneNumber: str
    firstName: str | None
    lastName: str | None
    timeZone: str | None
    uniqueId: str | None
    contactPriority: str | None
    fields: dict[str, str]
    attempt: int
    leaseExpiresAt: Timestamp


class LeasedContacts(BaseModel):
    contacts: list[LeasedContact]


class OutcomeItem(_Request):
    leaseId: Annotated[str, StringConstraints(min_length=1, max_length=48), AfterValidator(_no_nul)]
    outcome: Outcome
    callbackAt: IsoTime | None = None
    dispositionCodes: Annotated[list[Short], Field(max_length=MAX_DISPOSITIONS)] | None = None
    botSessionId: Short | None = None
    detail: (
        Annotated[str, StringConstraints(max_length=DETAIL_TEXT), AfterValidator(_no_nul)] | None
    ) = None


class OutcomeRequest(_Request):
    """Body of ``dialer/outcome``."""

    results: Annotated[list[OutcomeItem], Field(min_length=1, max_length=MAX_OUTCOMES)]


class OutcomeResult(BaseModel):
    leaseId: str
    accepted: bool
    reason: Literal["lease_expired", "unknown_lease"] | None = None


class OutcomeResults(BaseModel):
    results: list[OutcomeResult]


class Summary(BaseModel):
    total: int
    eligibleNow: int
    leased: int
    waitingRetry: int
    callbacks: int
    outsideWindow: int
    dnc: int
    optedOut: int
    exhausted: int
    done: int
    eligibleNowByTimeZone: dict[str, int]


class Answer(BaseModel, Generic[T]):
    """The dialer routes' envelope: a status and the data, as CONTRACT §9 shows it."""

    status: Literal["success"] = "success"
    data: T


# ---------------------------------------------------------------- Kore.ai's shapes

MAX_CONTACTS_PAGE = 100
MAX_PAGE = 10**9
MAX_CALLBACKS = 1_000
KORE_DATE_TIME = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"
WeekDay = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class ContactsPageRequest(_Request):
    """Body of ``status?view=contacts``; both optional."""

    page: Annotated[int, Field(ge=1, le=MAX_PAGE, strict=True)] = 1
    limit: Annotated[int, Field(ge=1, le=MAX_CONTACTS_PAGE, strict=True)] = 50


class ContactStatus(BaseModel):
    phoneNumber: str
    uniqueId: str
    dialerOutcome: str
    numberOfAttemptsSoFar: int
    botSessionId: str
    agentDispositionCodes: list[str]
    botOutboundStatus: str
    botOutboundStatusDetail: str


class ContactsStatusPage(BaseModel):
    results: list[ContactStatus]
    page: int
    limit: int
    totalPages: int
    totalResults: int


class CallbackRequestItem(_Request):
    """One item of ``callContactAt``'s array body."""

    campaignDialingListId: Short
    timeToContact: IsoTime


class CallbackResult(BaseModel):
    campaignDialingListId: str
    status: Literal["success", "failed"]
    reason: str | None = None


class DailyDetails(_Request):
    onceEveryNdays: Annotated[int, Field(ge=1, le=365, strict=True)]


class WeeklyDetails(_Request):
    onceEveryNweeks: Annotated[int, Field(ge=1, le=52, strict=True)]
    whichDays: Annotated[list[WeekDay], Field(min_length=1, max_length=7)]


class Recurrence(_Request):
    recurType: Literal["Daily", "Weekly"]
    dailyDetails: DailyDetails | None = None
    weeklyDetails: WeeklyDetails | None = None


class ScheduleRequest(_Request):
    """Body of ``schedule?enableSchedule=true``; times are the campaign's zone's wall clock."""

    startDateTime: Annotated[str, StringConstraints(pattern=KORE_DATE_TIME)]
    endDateTime: Annotated[str, StringConstraints(pattern=KORE_DATE_TIME)]
    recurrenceObject: Recurrence | None = None


class ScheduleAnswer(BaseModel):
    """Kore.ai's schedule answer: status, message and the campaign's id, no data."""

    status: Literal["success"] = "success"
    message: str
    id: str
