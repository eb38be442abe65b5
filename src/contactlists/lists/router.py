"""Contact-list routes (CONTRACT §4.1–4.5), mounted once per path family.

The routes are module-level functions; ``router_for`` lists them with the answer models of one
family's shape (``render.SHAPES``), which is all that differs between v1 and v2. Delete and
restore are the trash's (``contactlists.trash.router``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.deps import SessionDep, SettingsDep, single_statement_read
from contactlists.lists import dnc, render, service
from contactlists.lists.schemas import ContactListCreate, ContactListUpdate, ListType
from contactlists.schemas import MAX_SKIP, Success
from contactlists.wire import FamilyDep, ListId, PathFamily, body_openapi, json_body


async def create_contact_list(
    caller: WriteCaller,
    body: Annotated[ContactListCreate, json_body(ContactListCreate)],
    session: SessionDep,
    settings: SettingsDep,
    family: FamilyDep,
) -> Any:
    """Create a contact list."""
    created = await service.create(session, caller, body, default_region=settings.default_region)
    return Success(
        message=f"Contact list {created.name} created successfully",
        data=render.created(service.ListView(created), family.shape),
    )


async def get_all_list_details(
    caller: ReadCaller,
    session: SessionDep,
    settings: SettingsDep,
    family: FamilyDep,
    type: Annotated[
        ListType | None, Query(description="Only lists of this type; default: all but dnc.")
    ] = None,
    skip: Annotated[int, Query(ge=0, le=MAX_SKIP, description="Lists to skip (extension).")] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=1000, description="Page size; default: every list.")
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=192,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Case-insensitive name substring (extension).",
        ),
    ] = None,
) -> Any:
    """List the contact lists of the bot, most recently updated first."""
    if type == "dnc":
        # Every bot has its Default Global DNC list; asking for DNC lists is a first use.
        await dnc.ensure_default_dnc(session, caller, settings.default_region)
    found = await service.list_all(
        session, caller, list_type=type, search=search, page=service.Page(skip=skip, limit=limit)
    )
    listed = await service.views(session, found)
    return Success(message="", data=[render.summary(item, family.shape) for item in listed])


async def get_contact_list(
    caller: ReadCaller, list_id: ListId, session: SessionDep, family: FamilyDep
) -> Any:
    """Get one contact list."""
    await single_statement_read(session)
    view = await service.get_view(session, caller, list_id)  # one statement: B4
    return Success(message="", data=render.full(view, family.shape))


async def update_contact_list(
    caller: WriteCaller,
    list_id: ListId,
    body: Annotated[ContactListUpdate, json_body(ContactListUpdate, empty={})],
    session: SessionDep,
    family: FamilyDep,
) -> Any:
    """Change a contact list's name, description, duplicate policy or region."""
    updated, given = await service.update(session, caller, list_id, body)
    return Success(
        message=f"Contact list {updated.name} updated successfully",
        data=render.update_result(updated, given, family.shape),
    )


def router_for(family: PathFamily) -> APIRouter:
    """The contact-list routes with the answer models of ``family``'s shape."""
    shapes = render.SHAPES[family.shape]
    router = APIRouter()
    router.add_api_route(
        "/createContactList",
        create_contact_list,
        methods=["POST"],
        response_model=Success[shapes.created],  # type: ignore[name-defined]
        openapi_extra=body_openapi(ContactListCreate),
    )
    # Kore.ai documents POST; older pages and curl samples use GET: both are served.
    for method in ("POST", "GET"):
        router.add_api_route(
            "/getAllListDetails",
            get_all_list_details,
            methods=[method],
            name=f"get_all_contact_lists_{{family}}_{method.lower()}",
            summary="Get All List Details",
            response_model=Success[list[shapes.summary]],  # type: ignore[name-defined]
        )
    router.add_api_route(
        "/{list_id:list_id}",
        get_contact_list,
        methods=["GET"],
        response_model=Success[shapes.full],  # type: ignore[name-defined]
    )
    router.add_api_route(
        "/{list_id:list_id}",
        update_contact_list,
        methods=["PUT"],
        response_model=Success[shapes.update_result],  # type: ignore[name-defined]
        response_model_exclude_none=True,
        openapi_extra=body_openapi(ContactListUpdate, required=False),
    )
    return router
