"""Contact routes: addContacts (Kore.ai's own path), a list's contacts and single contacts.

CONTRACT §4.6–4.8.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.contacts import bulk, service
from contactlists.contacts.schemas import (
    AddContactsRequest,
    ContactOut,
    ContactsDeleted,
    ContactsDeleteRequest,
    ContactsPage,
    ContactUpdate,
    JobAccepted,
)
from contactlists.deps import SessionDep, SettingsDep
from contactlists.lists.router import ListId
from contactlists.schemas import MAX_SKIP, Success
from contactlists.wire import PathFamily, body_openapi, json_body

ADD_CONTACTS_PATH = "/api/1.1/public/{bot}/campaign/contactList/addContacts"
# Kore.ai's exact text; clients may show it.
IN_PROGRESS = "Adding contacts to public list is in progress"

ContactId = Annotated[str, Path(description="The contact id, `cc-…`.")]


def build_add_contacts_router() -> APIRouter:
    router = APIRouter(tags=["contacts"])

    @router.post(
        ADD_CONTACTS_PATH,
        response_model=JobAccepted,
        openapi_extra=body_openapi(AddContactsRequest),
        operation_id="add_contacts",
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

    return router


def build_router(family: PathFamily) -> APIRouter:
    router = APIRouter(prefix=f"{family.prefix}/contactList", tags=[f"contacts ({family.tag})"])

    @router.get(
        "/{list_id:list_id}/getAllContacts",
        response_model=Success[ContactsPage],
        operation_id=f"get_all_contacts_{family.tag}",
    )
    async def get_all_contacts(
        caller: ReadCaller,
        list_id: ListId,
        session: SessionDep,
        skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="Contacts to skip.")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 50,
        cursor: Annotated[
            str | None,
            Query(
                max_length=64,
                description="`nextCursor` of the previous page: constant time at any depth.",
            ),
        ] = None,
    ) -> Any:
        """Page through a list's contacts in insertion order."""
        page = await service.page(session, caller, list_id, skip=skip, limit=limit, cursor=cursor)
        return Success(message="Contacts retrieved successfully", data=page)

    contact_path = "/{list_id:list_id}/contacts/{contact_id:contact_id}"

    @router.get(
        contact_path,
        response_model=Success[ContactOut],
        operation_id=f"get_contact_{family.tag}",
    )
    async def get_contact(
        caller: ReadCaller, list_id: ListId, contact_id: ContactId, session: SessionDep
    ) -> Any:
        """Get one contact of a list."""
        found = await service.get_one(session, caller, list_id, contact_id)
        return Success(message="", data=service.contact_out(found))

    @router.put(
        contact_path,
        response_model=Success[ContactOut],
        openapi_extra=body_openapi(ContactUpdate, required=False),
        operation_id=f"update_contact_{family.tag}",
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
        contact_path,
        response_model=Success[ContactOut],
        operation_id=f"delete_contact_{family.tag}",
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
        operation_id=f"delete_contacts_{family.tag}",
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

    return router
