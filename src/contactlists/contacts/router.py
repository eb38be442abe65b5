"""Contact routes: addContacts (Kore.ai's own path), a list's contacts and single contacts.

CONTRACT §4.6–4.8.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.contacts import bulk, service
from contactlists.contacts.filter_params import ContactFilters
from contactlists.contacts.schemas import (
    AddContactsRequest,
    ContactOut,
    ContactsDeleted,
    ContactsDeleteRequest,
    ContactsPage,
    ContactUpdate,
    JobAccepted,
    TimeZoneCount,
)
from contactlists.deps import SessionDep, SettingsDep
from contactlists.schemas import MAX_SKIP, Success
from contactlists.wire import ContactId, ListId, body_openapi, json_body

ADD_CONTACTS_PATH = "/api/1.1/public/{bot}/campaign/contactList/addContacts"
# Kore.ai's exact text; clients may show it.
IN_PROGRESS = "Adding contacts to public list is in progress"

# addContacts has one path of its own, outside the families; the rest is mounted once per family
# under `…/contactList`.
add_contacts_router = APIRouter(tags=["contacts"])
router = APIRouter()


@add_contacts_router.post(
    ADD_CONTACTS_PATH,
    operation_id="add_contacts",
    response_model=JobAccepted,
    openapi_extra=body_openapi(AddContactsRequest),
)
async def add_contacts(
    caller: WriteCaller,
    body: Annotated[AddContactsRequest, json_body(AddContactsRequest)],
    session: SessionDep,
    settings: SettingsDep,
) -> Any:
    """Queue contacts for a list named in the body; follow the returned job."""
    job = await bulk.add(session, caller, body, settings)
    return JobAccepted(message=IN_PROGRESS, jobId=job.id)


@router.get(
    "/{list_id:list_id}/getAllContacts",
    response_model=Success[ContactsPage],
)
async def get_all_contacts(
    caller: ReadCaller,
    list_id: ListId,
    filters: ContactFilters,
    session: SessionDep,
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="Contacts to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`nextCursor` of the previous page: constant time at any depth. Valid "
            "only with the filters of that page.",
        ),
    ] = None,
) -> Any:
    """Page through a list's contacts in insertion order, optionally filtered (extension).

    Filters combine with AND: the parameters below, and `fields.<name>=<value>` (a custom field
    equal to the value; at most 10). Under filters `totalResults` and `totalPages` are null
    (the matches are not counted); follow `nextCursor`, which is valid only with the same
    filters.
    """
    page = await service.page(
        session, caller, list_id, skip=skip, limit=limit, cursor=cursor, raw_filters=filters
    )
    return Success(message="Contacts retrieved successfully", data=page)


@router.get(
    "/{list_id:list_id}/timeZones",
    response_model=Success[list[TimeZoneCount]],
)
async def get_time_zones(caller: ReadCaller, list_id: ListId, session: SessionDep) -> Any:
    """A list's contacts counted by time zone, the largest first (extension).

    `timeZone` is null for the contacts whose zone is not known. Reads the whole list.
    """
    return Success(message="", data=await service.time_zones(session, caller, list_id))


CONTACT_PATH = "/{list_id:list_id}/contacts/{contact_id:contact_id}"


@router.get(
    CONTACT_PATH,
    response_model=Success[ContactOut],
)
async def get_contact(
    caller: ReadCaller, list_id: ListId, contact_id: ContactId, session: SessionDep
) -> Any:
    """Get one contact of a list."""
    found = await service.get_one(session, caller, list_id, contact_id)
    return Success(message="", data=service.contact_out(found))


@router.put(
    CONTACT_PATH,
    response_model=Success[ContactOut],
    openapi_extra=body_openapi(ContactUpdate, required=False),
)
async def update_contact(
    caller: WriteCaller,
    list_id: ListId,
    contact_id: ContactId,
    body: Annotated[ContactUpdate, json_body(ContactUpdate, empty={})],
    session: SessionDep,
) -> Any:
    """Change fields of one contact; a custom field set to null is removed."""
    changes = body.model_dump(exclude_unset=True)
    updated = await service.update_one(session, caller, list_id, contact_id, changes)
    return Success(
        message=f"Contact {contact_id} updated successfully",
        data=service.contact_out(updated),
    )


@router.delete(
    CONTACT_PATH,
    response_model=Success[ContactOut],
)
async def delete_contact(
    caller: WriteCaller, list_id: ListId, contact_id: ContactId, session: SessionDep
) -> Any:
    """Delete one contact of a list; answers with the contact as it was."""
    deleted = await service.delete_one(session, caller, list_id, contact_id)
    return Success(
        message=f"Contact {contact_id} deleted successfully",
        data=service.contact_out(deleted),
    )


@router.post(
    "/{list_id:list_id}/contacts/delete",
    response_model=Success[ContactsDeleted],
    openapi_extra=body_openapi(ContactsDeleteRequest),
)
async def delete_contacts(
    caller: WriteCaller,
    list_id: ListId,
    body: Annotated[ContactsDeleteRequest, json_body(ContactsDeleteRequest)],
    session: SessionDep,
) -> Any:
    """Delete up to 10,000 contacts of a list by id; names the ids not in the list."""
    result = await service.delete_many(session, caller, list_id, body.ids)
    return Success(message=f"{result.deleted} contacts deleted", data=result)
