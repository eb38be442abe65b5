"""Contact routes: addContacts (on Kore.ai's own path) and a list's contacts (CONTRACT §4.6–4.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.contacts import service
from contactlists.contacts.schemas import AddContactsRequest, ContactsPage, JobAccepted
from contactlists.deps import SessionDep, SettingsDep
from contactlists.lists.router import ListId
from contactlists.schemas import Success
from contactlists.wire import PathFamily, body_openapi, json_body

ADD_CONTACTS_PATH = "/api/1.1/public/{bot}/campaign/contactList/addContacts"
# Kore.ai's exact text; clients may show it.
IN_PROGRESS = "Adding contacts to public list is in progress"


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
        job = await service.add(session, caller, body, settings)
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
        skip: Annotated[int, Query(ge=0, description="Contacts to skip.")] = 0,
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

    return router
