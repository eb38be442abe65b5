"""Wire schemas of contacts (CONTRACT §4.6–4.8). Pydantic only, so the SDK can reuse them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
)

from contactlists.lists.schemas import no_control_characters
from contactlists.schemas import Timestamp

# The body's item limit when no setting is given (CONTACTLISTS_MAX_BATCH's default).
DEFAULT_MAX_BATCH = 10_000


# What an import does with a row that matches a contact of the list (extension): skip it as a
# duplicate (Kore.ai's behaviour), or overwrite the contact's given fields.
OnDuplicate = Literal["skip", "update"]


class AddContactsRequest(BaseModel):
    """Body of addContacts: the list by name and the contacts to add."""

    model_config = ConfigDict(extra="ignore")

    # No list name holds a control character (lists.schemas.ListName): such a name is refused
    # before it is looked up (PostgreSQL cannot even compare a text holding NUL).
    contact_list_name: Annotated[
        str, Field(min_length=1, max_length=192), AfterValidator(no_control_characters)
    ]
    # The upper bound is a setting (CONTACTLISTS_MAX_BATCH), given as validation context by
    # the body dependency and checked before any item is: a body of a million bad items is
    # one error, not a million.
    data: list[dict[str, Any]] = Field(min_length=1)
    onDuplicate: OnDuplicate = "skip"

    @field_validator("data", mode="before")
    @classmethod
    def _at_most_max_batch(cls, value: Any, info: ValidationInfo) -> Any:
        limit = (info.context or {}).get("max_batch", DEFAULT_MAX_BATCH)
        if isinstance(value, list) and len(value) > limit:
            raise ValueError(f"data holds {len(value)} items; at most {limit} are accepted")
        return value


class JobAccepted(BaseModel):
    status: Literal["success"] = "success"
    message: str
    jobId: str


class ContactOut(BaseModel):
    """A contact. The service always sends every key; Kore.ai's pages show only `_id`,
    `phoneNumber` and the timestamps, so the others default for the SDK's sake."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(alias="_id")
    phoneNumber: str
    firstName: str | None = None
    lastName: str | None = None
    timeZone: str | None = None
    uniqueId: str | None = None
    contactPriority: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    createdAt: Timestamp
    updatedAt: Timestamp
    # An extension, last: False when the number was stored though it is only plausible (a
    # country code in use and a possible length), not a number libphonenumber knows as valid.
    phoneVerified: bool = True


class ContactUpdate(BaseModel):
    """Body of a single-contact update: the fields to change; other keys are custom fields.

    Values are checked as addContacts checks an item, once merged with the stored contact; a
    custom field set to null is removed.
    """

    model_config = ConfigDict(extra="allow")

    phoneNumber: JsonValue = Field(default=None, description="Read with the list's region.")
    firstName: JsonValue = None
    lastName: JsonValue = None
    timeZone: JsonValue = Field(default=None, description="An IANA time-zone name.")
    uniqueId: JsonValue = None
    contactPriority: JsonValue = None


MAX_DELETE_IDS = 10_000


class ContactsDeleteRequest(BaseModel):
    """Body of a bulk delete: the ids of the contacts to delete."""

    model_config = ConfigDict(extra="ignore")

    ids: list[str] = Field(min_length=1, max_length=MAX_DELETE_IDS)


class ContactsDeleted(BaseModel):
    deleted: int
    notFound: list[str]


class TimeZoneCount(BaseModel):
    """How many of a list's contacts are in one time zone (``null``: none known)."""

    timeZone: str | None
    count: int


class ContactsPage(BaseModel):
    results: list[ContactOut]
    skip: int
    limit: int
    hasMore: bool
    # Null when the page is filtered (extension): the matches are not counted.
    totalPages: int | None
    totalResults: int | None
    # Ours (extension): absent from Kore.ai's pages.
    nextCursor: str | None = None
