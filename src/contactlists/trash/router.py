"""Trash routes: delete a contact list (Kore.ai's DELETE) and restore it (an extension).

Mounted once per path family beside the contact-list routes; both answer with the list in the
family's shape (``lists.render.SHAPES``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contactlists.auth import ReadCaller, WriteCaller
from contactlists.deps import SessionDep, SettingsDep
from contactlists.lists import render
from contactlists.lists import service as lists
from contactlists.schemas import Success
from contactlists.trash import service
from contactlists.trash.schemas import TrashedList
from contactlists.wire import FamilyDep, ListId, PathFamily


async def delete_contact_list(
    caller: WriteCaller,
    list_id: ListId,
    session: SessionDep,
    settings: SettingsDep,
    family: FamilyDep,
    force: Annotated[
        bool, Query(description="Detach the list from the campaigns using it, then delete it.")
    ] = False,
) -> Any:
    """Delete a contact list at once, whatever its size; answers with the list as it was.

    A list that a campaign uses is refused (409 `list_in_use`) unless `force=true`. The
    list can be restored for `CONTACTLISTS_TRASH_DAYS` days; then its contacts are purged.
    """
    deleted = await service.delete(session, caller, list_id, force=force, settings=settings)
    return Success(
        message=f"Contact list {deleted.record.name} deleted successfully",
        data=render.full(deleted, family.shape),
    )


async def restore_contact_list(
    caller: WriteCaller, list_id: ListId, session: SessionDep, family: FamilyDep
) -> Any:
    """Bring a deleted list back from the trash with its contacts (extension).

    404 when the list is not in the trash (never deleted, or its trash period is over);
    409 when a list with its name was created meanwhile.
    """
    restored = await service.restore(session, caller, list_id)
    return Success(
        message=f"Contact list {restored.name} restored successfully",
        data=render.full(await lists.view(session, restored), family.shape),
    )


async def get_trash(caller: ReadCaller, session: SessionDep) -> Success[list[TrashedList]]:
    """The bot's deleted lists that can still be restored, newest first (extension).

    Each shows when it was deleted and until when it can be restored (`purgeAfter`); at
    most 200 are listed.
    """
    return Success(message="", data=await service.in_trash(session, caller))


def router_for(family: PathFamily) -> APIRouter:
    """The trash routes with the answer model of ``family``'s shape of a list."""
    shapes = render.SHAPES[family.shape]
    answer: Any = Success[shapes.full]  # type: ignore[name-defined]
    router = APIRouter()
    router.add_api_route(
        "/trash", get_trash, methods=["GET"], response_model=Success[list[TrashedList]]
    )
    router.add_api_route(
        "/{list_id:list_id}", delete_contact_list, methods=["DELETE"], response_model=answer
    )
    router.add_api_route(
        "/{list_id:list_id}/restore", restore_contact_list, methods=["POST"], response_model=answer
    )
    return router
