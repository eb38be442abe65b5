"""Wire schemas of contact lists (CONTRACT §3–4), field order as in Kore.ai's samples.

Imports only pydantic and phonenumbers (no ORM, no web framework), so the SDK can reuse them.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from contactlists.schemas import Timestamp

NAME_MAX = 48
DESCRIPTION_MAX = 256

ListType = Literal["call", "sms", "dnc"]
Source = Literal["passiveApi", "passiveApiIntegration", "localDrive"]
DataSyncMode = Literal["allowDuplicates", "dontAllowDuplicates"]
# What makes two contacts of a list the same (extension): its number, or its uniqueId.
DedupeKey = Literal["phoneNumber", "uniqueId"]


def no_control_characters(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ListName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(no_control_characters),
]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX), AfterValidator(_no_nul)]


def _known_region(value: str) -> str:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value} is not an ISO 3166 region known to the phone-number rules")
    return value


Region = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
    AfterValidator(_known_region),
]


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# ---------------------------------------------------------------- requests


class ContactListCreate(BaseModel):
    """Body of createContactList. Unknown keys are ignored, as Kore.ai does."""

    model_config = ConfigDict(extra="ignore")

    name: ListName
    description: Description = ""
    source: Literal["passiveApi", "passiveApiIntegration"] = "passiveApi"
    allowDuplicates: StrictBool = False
    listType: ListType = "call"
    defaultRegion: Region | None = None
    dedupeKey: DedupeKey = "phoneNumber"


class ContactListUpdate(BaseModel):
    """Body of an update; every field is optional and an omitted one is left as it is."""

    model_config = ConfigDict(extra="ignore")

    name: ListName | None = None
    description: Description | None = None
    allowDuplicates: StrictBool | None = None
    defaultRegion: Region | None = None
    # May change only while the list has no contacts.
    dedupeKey: DedupeKey | None = None


# ---------------------------------------------------------------- parts


class Mapping(_Wire):
    firstName: str
    lastName: str
    phoneNumber: str
    timeZone: str
    uniqueId: str


class MappingV2(Mapping):
    contactPriority: str


class ApiConfigurations(_Wire):
    dataSyncMode: DataSyncMode


class CampaignRef(_Wire):
    id: str
    name: str


class FileRef(_Wire):
    fileId: str
    fileName: str


# ---------------------------------------------------------------- responses


class V1ContactList(_Wire):
    """The v1 list object of get and delete."""

    id: str = Field(alias="_id")
    isActive: bool
    orgId: str
    name: str
    lname: str
    description: str
    totalRecordCount: int
    status: str
    createdBy: str
    updatedBy: str
    mapping: Mapping
    isListInUse: bool
    iId: str
    listType: ListType
    campaignInUse: list[CampaignRef]
    accountId: str
    source: Source
    apiConfigurations: ApiConfigurations
    files: list[FileRef]
    createdAt: Timestamp
    updatedAt: Timestamp
    defaultRegion: str
    # Ours (extension); the default is what lists were before it existed.
    dedupeKey: DedupeKey = "phoneNumber"


class V1ContactListCreated(_Wire):
    """The v1 create response: Kore.ai's create subset, `_id` and `allowDuplicates` last."""

    isActive: bool
    name: str
    description: str
    totalRecordCount: int
    status: str
    createdBy: str
    updatedBy: str
    mapping: Mapping
    isListInUse: bool
    listType: ListType
    campaignInUse: list[CampaignRef]
    source: Source
    apiConfigurations: ApiConfigurations
    files: list[FileRef]
    createdAt: Timestamp
    updatedAt: Timestamp
    id: str = Field(alias="_id")
    allowDuplicates: bool
    defaultRegion: str
    dedupeKey: DedupeKey = "phoneNumber"


class V2ContactList(_Wire):
    """The v2 list object of create, get and delete."""

    id: str = Field(alias="_id")
    isActive: bool
    name: str
    description: str
    totalRecordCount: int
    status: str
    createdBy: str
    updatedBy: str
    mapping: MappingV2
    isListInUse: bool
    listType: ListType
    isGlobalDNC: bool
    isDefault: bool
    campaignInUse: list[CampaignRef]
    source: Source
    apiConfigurations: ApiConfigurations
    columns: list[str]
    files: list[FileRef]
    createdAt: Timestamp
    updatedAt: Timestamp
    allowDuplicates: bool
    # Ours (extension): the service always sends it, Kore.ai never does.
    defaultRegion: str | None = None
    dedupeKey: DedupeKey = "phoneNumber"


class V1ContactListSummary(_Wire):
    """An item of v1 getAllListDetails."""

    id: str = Field(alias="_id")
    name: str
    description: str
    totalRecordCount: int
    status: str
    mapping: Mapping
    isListInUse: bool
    listType: ListType
    campaignInUse: list[CampaignRef]
    source: Source
    apiConfigurations: ApiConfigurations
    files: list[FileRef]
    updatedAt: Timestamp


class V2ContactListSummary(_Wire):
    """An item of v2 getAllListDetails."""

    id: str = Field(alias="_id")
    name: str
    description: str
    totalRecordCount: int
    status: str
    mapping: MappingV2
    isListInUse: bool
    listType: ListType
    campaignInUse: list[CampaignRef]
    source: Source
    apiConfigurations: ApiConfigurations
    columns: list[str]
    files: list[FileRef]
    updatedAt: Timestamp


class V1UpdateBody(_Wire):
    """What an update set: the fields given, then the list's fixed identity."""

    name: str | None = None
    description: str | None = None
    allowDuplicates: bool | None = None
    defaultRegion: str | None = None
    dedupeKey: DedupeKey | None = None
    orgId: str
    iId: str
    listType: ListType
    accountId: str
    updatedBy: str


class V2UpdateBody(V1UpdateBody):
    scope: list[str]


class V1UpdateResult(_Wire):
    contactListId: str
    body: V1UpdateBody


class V2UpdateResult(_Wire):
    contactListId: str
    body: V2UpdateBody
