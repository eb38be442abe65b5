"""Contact-list routes (CONTRACT §4.1–4.5), mounted once per path family."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.deps import SessionDep, SettingsDep
from contactlists.lists import dnc, render, service
from contactlists.lists.schemas import (
    ContactListCreate,
    ContactListUpdate,
    ListType,
    V1ContactList,
    V1ContactListCreated,
    V1ContactListSummary,
    V1UpdateResult,
    V2ContactList,
    V2ContactListSummary,
    V2UpdateResult,
)
from contactlists.schemas import MAX_SKIP, Success
from contactlists.wire import PathFamily, Shape, body_openapi, json_body

ListId = Annotated[str, Path(description="The contact list id, `cl-…`.")]


def build_router(family: PathFamily) -> APIRouter:
    shape = family.shape
    v1 = shape is Shape.V1
    router = APIRouter(
        prefix=f"{family.prefix}/contactList", tags=[f"contact lists ({family.tag})"]
    )

    @router.post(
        "/createContactList",
        response_model=Success[V1ContactListCreated] if v1 else Success[V2ContactList],
        openapi_extra=body_openapi(ContactListCreate),
        operation_id=f"create_contact_list_{family.tag}",
    )
    async def create_contact_list(
        caller: WriteCaller,
        body: Annotated[ContactListCreate, json_body(ContactListCreate)],
        session: SessionDep,
        settings: SettingsDep,
    ) -> Any:
        """Create a contact list."""
        created = await service.create(
            session, caller, body, default_region=settings.default_region
        )
        return Success(
            message=f"Contact list {created.name} created successfully",
            data=render.created(service.ListView(created), shape),
        )

    async def get_all_list_details(
        caller: ReadCaller,
        session: SessionDep,
        settings: SettingsDep,
        type: Annotated[
            ListType | None, Query(description="Only lists of this type; default: all but dnc.")
        ] = None,
        skip: Annotated[
            int, Query(ge=0, le=MAX_SKIP, description="Lists to skip (extension).")
        ] = 0,
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
            session,
            caller,
            list_type=type,
            search=search,
            page=service.Page(skip=skip, limit=limit),
        )
        listed = await service.views(session, found)
        return Success(message="", data=[render.summary(item, shape) for item in listed])

    # Kore.ai documents POST; older pages and curl samples use GET: both are served.
    for method in ("POST", "GET"):
        router.add_api_route(
            "/getAllListDetails",
            get_all_list_details,
            methods=[method],
            response_model=Success[list[V1ContactListSummary]]
            if v1
            else Success[list[V2ContactListSummary]],
            operation_id=f"get_all_contact_lists_{family.tag}_{method.lower()}",
        )

    @router.get(
        "/{list_id:list_id}",
        response_model=Success[V1ContactList] if v1 else Success[V2ContactList],
        operation_id=f"get_contact_list_{family.tag}",
    )
    async def get_contact_list(caller: ReadCaller, list_id: ListId, session: SessionDep) -> Any:
        """Get one contact list."""
        view = await service.get_view(session, caller, list_id)  # one statement: B4
        return Success(message="", data=render.full(view, shape))

    @router.put(
        "/{list_id:list_id}",
        response_model=Success[V1UpdateResult] if v1 else Success[V2UpdateResult],
        response_model_exclude_none=True,
        openapi_extra=body_openapi(ContactListUpdate, required=False),
        operation_id=f"update_contact_list_{family.tag}",
    )
    async def update_contact_list(
        caller: WriteCaller,
        list_id: ListId,
        body: Annotated[ContactListUpdate, json_body(ContactListUpdate, empty={})],
        session: SessionDep,
    ) -> Any:
        """Change a contact list's name, description, duplicate policy or region."""
        updated, given = await service.update(session, caller, list_id, body)
        return Success(
            message=f"Contact list {updated.name} updated successfully",
            data=render.update_result(updated, given, shape),
        )

    @router.delete(
        "/{list_id:list_id}",
        response_model=Success[V1ContactList] if v1 else Success[V2ContactList],
        operation_id=f"delete_contact_list_{family.tag}",
    )
    async def delete_contact_list(
        caller: WriteCaller,
        list_id: ListId,
        session: SessionDep,
        settings: SettingsDep,
        force: Annotated[
            bool,
            Query(description="Detach the list from the campaigns using it, then delete it."),
        ] = False,
    ) -> Any:
        """Delete a contact list at once, whatever its size; answers with the list as it was.

        A list that a campaign uses is refused (409 `list_in_use`) unless `force=true`. The
        list can be restored for `CONTACTLISTS_TRASH_DAYS` days; then its contacts are purged.
        """
        deleted = await service.delete(session, caller, list_id, force=force, settings=settings)
        return Success(
            message=f"Contact list {deleted.record.name} deleted successfully",
            data=render.full(deleted, shape),
        )

    @router.post(
        "/{list_id:list_id}/restore",
        response_model=Success[V1ContactList] if v1 else Success[V2ContactList],
        operation_id=f"restore_contact_list_{family.tag}",
    )
    async def restore_contact_list(
        caller: WriteCaller, list_id: ListId, session: SessionDep
    ) -> Any:
        """Bring a deleted list back from the trash with its contacts (extension).

        404 when the list is not in the trash (never deleted, or its trash period is over);
        409 when a list with its name was created meanwhile.
        """
        restored = await service.restore(session, caller, list_id)
        return Success(
            message=f"Contact list {restored.name} restored successfully",
            data=render.full(await service.view(session, restored), shape),
        )

    return router
