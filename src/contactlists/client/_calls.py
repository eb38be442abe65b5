"""Every operation of the API as a description of one HTTP call: the SDK's single source.

The sync and async clients differ only in how they send a :class:`Call`; what is sent,
whether it may be retried and how the answer is read are decided here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from contactlists.campaigns.schemas import (
    CampaignOut,
    CampaignPage,
    CampaignStatusOut,
    CampaignType,
    SmsCampaignBody,
    Trigger,
    TriggerResult,
    VoiceCampaignBody,
)
from contactlists.contacts.schemas import (
    ContactOut,
    ContactsDeleted,
    ContactsPage,
    JobAccepted,
    OnDuplicate,
)
from contactlists.dialer.schemas import (
    LeasedContact,
    LeasedContacts,
    OutcomeItem,
    OutcomeResult,
    OutcomeResults,
    Summary,
)
from contactlists.dnc.schemas import DncResult, DncResults
from contactlists.jobs.schemas import JobOut, RowErrorOut
from contactlists.lists.schemas import (
    DedupeKey,
    V2ContactList,
    V2ContactListSummary,
    V2UpdateResult,
)
from contactlists.schemas import format_timestamp

T = TypeVar("T")

ListKind = Literal["call", "sms", "dnc"]
JSONObject = Mapping[str, Any]
FINISHED_STATES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    ``path`` is relative to the bot's v2 prefix unless it starts with ``/api/``.
    ``idempotent`` calls may be retried after a broken connection or a 502/503/504.
    """

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    idempotent: bool
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None

    def url(self, bot: str) -> str:
        if self.path.startswith("/api/"):
            return self.path.format(bot=segment(bot))
        return f"/campaign/api/v2/public/{segment(bot)}/campaign{self.path}"


def segment(value: str) -> str:
    """``value`` as one path segment: nothing in it can add a segment or a query."""
    return quote(value, safe="")


def data_of(shape: Any) -> Callable[[httpx.Response], Any]:
    """A reader of the ``data`` of a success envelope, as ``shape``."""
    adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def read(response: httpx.Response) -> Any:
        return adapter.validate_python(response.json()["data"])

    return read


def whole(shape: type[BaseModel]) -> Callable[[httpx.Response], Any]:
    def read(response: httpx.Response) -> Any:
        return shape.model_validate(response.json())

    return read


def _defined(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# ---------------------------------------------------------------- contact lists


def create_list(
    name: str,
    *,
    description: str | None = None,
    allow_duplicates: bool | None = None,
    list_type: Literal["call", "sms"] | None = None,
    default_region: str | None = None,
    source: Literal["passiveApi", "passiveApiIntegration"] | None = None,
    dedupe_key: DedupeKey | None = None,
) -> Call[V2ContactList]:
    body = _defined(
        name=name,
        description=description,
        allowDuplicates=allow_duplicates,
        listType=list_type,
        defaultRegion=default_region,
        source=source,
        dedupeKey=dedupe_key,
    )
    return Call("POST", "/contactList/createContactList", data_of(V2ContactList), False, json=body)


def get_list(list_id: str) -> Call[V2ContactList]:
    return Call("GET", f"/contactList/{segment(list_id)}", data_of(V2ContactList), True)


def list_lists(
    *,
    list_type: ListKind | None = None,
    search: str | None = None,
    skip: int | None = None,
    limit: int | None = None,
) -> Call[list[V2ContactListSummary]]:
    params = _defined(type=list_type, search=search, skip=skip, limit=limit)
    return Call(
        "GET",
        "/contactList/getAllListDetails",
        data_of(list[V2ContactListSummary]),
        True,
        params=params,
    )


def update_list(
    list_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    allow_duplicates: bool | None = None,
    default_region: str | None = None,
    dedupe_key: DedupeKey | None = None,
) -> Call[V2UpdateResult]:
    body = _defined(
        name=name,
        description=description,
        allowDuplicates=allow_duplicates,
        defaultRegion=default_region,
        dedupeKey=dedupe_key,
    )
    return Call("PUT", f"/contactList/{segment(list_id)}", data_of(V2UpdateResult), True, json=body)


def delete_list(list_id: str, *, force: bool = False) -> Call[V2ContactList]:
    params = {"force": "true"} if force else {}
    return Call(
        "DELETE", f"/contactList/{segment(list_id)}", data_of(V2ContactList), True, params=params
    )


def restore_list(list_id: str) -> Call[V2ContactList]:
    # Restoring twice answers 404 or 409 the second time, never changes anything twice: safe
    # to retry.
    return Call("POST", f"/contactList/{segment(list_id)}/restore", data_of(V2ContactList), True)


# ---------------------------------------------------------------- contacts


def add_contacts(
    list_name: str, contacts: Iterable[JSONObject], *, on_duplicate: OnDuplicate | None = None
) -> Call[JobAccepted]:
    body: dict[str, Any] = {
        "contact_list_name": list_name,
        "data": [dict(item) for item in contacts],
    }
    if on_duplicate is not None:
        body["onDuplicate"] = on_duplicate
    return Call(
        "POST",
        "/api/1.1/public/{bot}/campaign/contactList/addContacts",
        whole(JobAccepted),
        False,
        json=body,
    )


@dataclass(frozen=True)
class ContactFilter:
    """Which contacts a page, an iteration or an export holds; every given filter must pass.

    ``phone_number`` in any format (the service reads it with the list's region); ``search``
    a case-insensitive prefix of firstName, lastName or uniqueId (``%`` and ``_`` are
    literal); ``fields`` custom fields equal to the values (at most 10); ``time_zone`` an IANA
    name; ``created_after`` (inclusive) and ``created_before`` (exclusive), naive times
    being UTC. A bad filter is a ``ValidationError`` naming it. Our extension: Kore.ai
    ignores these parameters.
    """

    phone_number: str | None = None
    search: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    time_zone: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def params(self) -> dict[str, Any]:
        return _defined(
            phoneNumber=self.phone_number,
            search=self.search,
            timeZone=self.time_zone,
            createdAfter=self.created_after.isoformat() if self.created_after else None,
            createdBefore=self.created_before.isoformat() if self.created_before else None,
            **{f"fields.{name}": value for name, value in self.fields.items()},
        )


def _filter_params(filters: ContactFilter | None) -> dict[str, Any]:
    return filters.params() if filters is not None else {}


def contacts_page(
    list_id: str,
    *,
    skip: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    filters: ContactFilter | None = None,
) -> Call[ContactsPage]:
    params = {**_filter_params(filters), **_defined(skip=skip, limit=limit, cursor=cursor)}
    return Call(
        "GET",
        f"/contactList/{segment(list_id)}/getAllContacts",
        data_of(ContactsPage),
        True,
        params=params,
    )


@dataclass
class ContactPaging:
    """Where the next page of a list's contacts starts, for iterating over all of them.

    After the cursor the service gave; from a server that gives none (Kore.ai), at the
    offset reached so far.
    """

    page_size: int
    cursor: str | None = None
    offset: int = 0

    def arguments(self) -> dict[str, Any]:
        if self.cursor is not None:
            return {"limit": self.page_size, "cursor": self.cursor}
        return {"limit": self.page_size, "skip": self.offset or None}

    def advance(self, page: ContactsPage) -> bool:
        """Take in a page; whether another follows."""
        if not page.hasMore or not page.results:
            return False
        self.offset += len(page.results)
        self.cursor = page.nextCursor
        return True


def contact_path(list_id: str, contact_id: str) -> str:
    return f"/contactList/{segment(list_id)}/contacts/{segment(contact_id)}"


def get_contact(list_id: str, contact_id: str) -> Call[ContactOut]:
    return Call("GET", contact_path(list_id, contact_id), data_of(ContactOut), True)


def update_contact(list_id: str, contact_id: str, changes: JSONObject) -> Call[ContactOut]:
    return Call(
        "PUT", contact_path(list_id, contact_id), data_of(ContactOut), True, json=dict(changes)
    )


def delete_contact(list_id: str, contact_id: str) -> Call[ContactOut]:
    return Call("DELETE", contact_path(list_id, contact_id), data_of(ContactOut), True)


def delete_contacts(list_id: str, contact_ids: Iterable[str]) -> Call[ContactsDeleted]:
    return Call(
        "POST",
        f"/contactList/{segment(list_id)}/contacts/delete",
        data_of(ContactsDeleted),
        # Deleting the same ids again deletes nothing more.
        True,
        json={"ids": list(contact_ids)},
    )


def upload_contacts(list_id: str) -> Call[JobAccepted]:
    """The upload call; the client adds the file and ``upload_fields`` as multipart parts."""
    return Call("POST", f"/contactList/{segment(list_id)}/upload", whole(JobAccepted), False)


def upload_fields(
    mapping: Mapping[str, str] | None,
    encoding: str | None = None,
    on_duplicate: OnDuplicate | None = None,
) -> dict[str, str]:
    """The form fields beside the file: the mapping as JSON, the CSV file's encoding, and
    what a row matching a contact does."""
    fields = {"mapping": json.dumps(dict(mapping))} if mapping else {}
    if encoding:
        fields["encoding"] = encoding
    if on_duplicate is not None:
        fields["onDuplicate"] = on_duplicate
    return fields


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_media_type(file_name: str) -> str:
    """The file part's media type, by its name: a label only, as the service reads the content."""
    return XLSX_MEDIA_TYPE if file_name.lower().endswith(".xlsx") else "text/csv"


def export_contacts(list_id: str, filters: ContactFilter | None = None) -> Call[None]:
    """The export call; its CSV body is streamed to the caller, not read here."""
    return Call(
        "GET",
        f"/contactList/{segment(list_id)}/export",
        _streamed,
        True,
        params=_filter_params(filters),
    )


def _streamed(response: httpx.Response) -> None:
    return None


# ---------------------------------------------------------------- jobs


def get_job(job_id: str) -> Call[JobOut]:
    return Call("GET", f"/jobs/{segment(job_id)}", data_of(JobOut), True)


def job_errors(job_id: str) -> Call[list[RowErrorOut]]:
    return Call("GET", f"/jobs/{segment(job_id)}/errors", data_of(list[RowErrorOut]), True)


def cancel_job(job_id: str) -> Call[JobOut]:
    # Cancelling a cancelled or finished job leaves it as it is: safe to retry.
    return Call("POST", f"/jobs/{segment(job_id)}/cancel", data_of(JobOut), True)


def undo_job(job_id: str) -> Call[JobAccepted]:
    # A second undo of one import is refused (409): not retried on its own.
    return Call("POST", f"/jobs/{segment(job_id)}/undo", whole(JobAccepted), False)


# ---------------------------------------------------------------- campaigns

CampaignBodyInput = JSONObject | VoiceCampaignBody | SmsCampaignBody


def campaign_body(body: CampaignBodyInput) -> dict[str, Any]:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_none=True)
    return dict(body)


def campaign_type_of(body: CampaignBodyInput, given: CampaignType | None) -> CampaignType | None:
    """The campaign type to send: as given, else what the body's model or field says."""
    if given is not None:
        return given
    if isinstance(body, VoiceCampaignBody):
        return "voice"
    if isinstance(body, SmsCampaignBody):
        return "sms"
    named = body.get("campaignType")
    return named if named in ("voice", "sms") else None


def _type_param(campaign_type: CampaignType | None) -> dict[str, Any]:
    return _defined(campaignType=campaign_type)


def create_campaign(
    body: CampaignBodyInput, *, campaign_type: CampaignType | None = None
) -> Call[CampaignOut]:
    return Call(
        "POST",
        "",
        # Voice creates answer with `id` where everything else has `_id`; both read as one.
        data_of(CampaignOut),
        False,
        params=_type_param(campaign_type_of(body, campaign_type)),
        json=campaign_body(body),
    )


def get_campaign(campaign_id: str) -> Call[CampaignOut]:
    return Call("GET", f"/{segment(campaign_id)}", data_of(CampaignOut), True)


def update_campaign(
    campaign_id: str, body: CampaignBodyInput, *, campaign_type: CampaignType | None = None
) -> Call[CampaignOut]:
    def read(response: httpx.Response) -> CampaignOut:
        return CampaignOut.model_validate(response.json()["data"])

    return Call(
        "PUT",
        f"/{segment(campaign_id)}",
        read,
        True,
        params=_type_param(campaign_type_of(body, campaign_type)),
        json=campaign_body(body),
    )


def delete_campaign(
    campaign_id: str, *, campaign_type: CampaignType | None = None
) -> Call[CampaignOut]:
    return Call(
        "DELETE",
        f"/{segment(campaign_id)}",
        data_of(CampaignOut),
        True,
        params=_type_param(campaign_type),
    )


def campaign_status(campaign_id: str) -> Call[CampaignStatusOut]:
    return Call(
        "POST",
        f"/{segment(campaign_id)}/status",
        data_of(CampaignStatusOut),
        True,
        params={"view": "status"},
    )


def list_campaigns(
    campaign_type: CampaignType,
    *,
    skip: int | None = None,
    page: int | None = None,
    limit: int | None = None,
    sort_by: Mapping[str, str] | None = None,
    filters: Mapping[str, list[str]] | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> Call[CampaignPage]:
    body = _defined(
        type=campaign_type,
        skip=skip,
        page=page,
        limit=limit,
        sortBy=dict(sort_by) if sort_by else None,
        filters=dict(filters) if filters else None,
        startDate=format_timestamp(start_date) if start_date else None,
        endDate=format_timestamp(end_date) if end_date else None,
    )
    return Call("POST", "/getAllCampaignDetails", data_of(CampaignPage), True, json=body)


def trigger_campaign(
    campaign_id: str, action: Trigger, *, campaign_type: CampaignType | None = None
) -> Call[TriggerResult]:
    return Call(
        "POST",
        f"/{segment(campaign_id)}",
        whole(TriggerResult),
        False,
        params={"trigger": action, **_type_param(campaign_type)},
    )


# ---------------------------------------------------------------- dialing and DNC (CONTRACT §8–9)


def dialer_next(
    campaign_id: str, *, limit: int, dialer_id: str, lease_seconds: int | None = None
) -> Call[list[LeasedContact]]:
    # Not retried: a repeated call would lease other contacts, and the first call's leases
    # would only come back when they run out.
    return Call(
        "POST",
        f"/{segment(campaign_id)}/dialer/next",
        lambda response: data_of(LeasedContacts)(response).contacts,
        False,
        json=_defined(limit=limit, dialerId=dialer_id, leaseSeconds=lease_seconds),
    )


def dialer_outcome(
    campaign_id: str, results: Iterable[OutcomeItem | JSONObject]
) -> Call[list[OutcomeResult]]:
    items = [
        item.model_dump(mode="json", exclude_none=True)
        if isinstance(item, BaseModel)
        else dict(item)
        for item in results
    ]
    # A repeated outcome counts once, so the call may be sent again.
    return Call(
        "POST",
        f"/{segment(campaign_id)}/dialer/outcome",
        lambda response: data_of(OutcomeResults)(response).results,
        True,
        json={"results": items},
    )


def dialer_summary(campaign_id: str) -> Call[Summary]:
    return Call("GET", f"/{segment(campaign_id)}/dialer/summary", data_of(Summary), True)


def dnc_check(phone_numbers: Iterable[str]) -> Call[list[DncResult]]:
    return Call(
        "POST",
        "/dnc/check",
        lambda response: data_of(DncResults)(response).results,
        True,
        json={"phoneNumbers": list(phone_numbers)},
    )
