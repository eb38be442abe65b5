"""The trash: delete a list at once, restore it while it waits, purge it when its time is up.

Takes the session, never commits. A deleted list keeps its row and contacts, invisible, until
its purge job (``trash.purge``) is due ``CONTACTLISTS_TRASH_DAYS`` later; restoring it cancels
that job.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.config import Settings
from contactlists.errors import DuplicateName, ListInUse, NotFound
from contactlists.imports import service as imports
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs import service as jobs
from contactlists.lists import repository as lists_repository
from contactlists.lists import service as lists
from contactlists.lists.repository import NameTaken
from contactlists.lists.service import LIST_DELETED, ListView
from contactlists.models import ContactList, utcnow
from contactlists.trash import repository
from contactlists.trash.purge import PURGE_LIST
from contactlists.trash.schemas import TRASH_LIMIT, TrashedList
from contactlists.webhooks import events as webhook_events
from contactlists.webhooks import service as webhooks


async def delete(
    session: AsyncSession, caller: Caller, list_id: str, *, force: bool, settings: Settings
) -> ListView:
    """Delete the list in one short transaction; returns the list as it was.

    The name is free and the list invisible as soon as this commits, however many contacts
    it holds: they stay in the trash with it and are purged by a job when the trash period
    ends. The list's row lock is taken first, so a campaign being created with this list
    either committed its reference before (and the delete is refused) or finds the list gone.
    """
    target = await lists_repository.lock_live(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if target is None:
        raise lists.not_found(list_id)
    as_it_was = await lists.view(session, target)
    if as_it_was.campaigns:
        if not force:
            raise ListInUse(target.name, list(as_it_was.campaigns))
        await repository.detach_from_campaigns(
            session, account_id=caller.account_id, list_id=list_id
        )
    purge_after = utcnow() + timedelta(days=settings.trash_days)
    await repository.mark_deleted(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        list_id=list_id,
        purge_after=purge_after,
    )
    await _tell(session, caller, webhook_events.LIST_DELETED, target)
    # No batch of these imports commits after this: each takes the list's row lock to write.
    await imports.cancel_for_list(
        session,
        account_id=caller.account_id,
        list_id=list_id,
        error=LIST_DELETED,
        settings=settings,
    )
    await jobs.enqueue(
        session,
        caller,
        kind=PURGE_LIST,
        list_id=list_id,
        payload={},
        total=None,
        run_after=purge_after,
    )
    return as_it_was


async def restore(session: AsyncSession, caller: Caller, list_id: str) -> ContactList:
    """Bring a deleted list back from the trash with all its contacts.

    Its waiting purge is cancelled first, conditionally on not being due: of a restore and a
    worker starting the purge, only one can win.
    """
    purge_cancelled = await jobs_repository.cancel_waiting(
        session,
        account_id=caller.account_id,
        list_id=list_id,
        kind=PURGE_LIST,
        error="the contact list was restored",
    )
    in_trash = await repository.get_in_trash(
        session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
    )
    if not purge_cancelled or in_trash is None:
        raise NotFound(f"Contact list {list_id} is not in the trash.")
    try:
        restored = await repository.restore(
            session, account_id=caller.account_id, bot_id=caller.bot_id, list_id=list_id
        )
    except NameTaken:
        raise DuplicateName(
            f"Contact list {in_trash.name} cannot be restored: "
            "a contact list with that name exists."
        ) from None
    if restored is None:
        raise NotFound(f"Contact list {list_id} is not in the trash.")
    await _tell(session, caller, webhook_events.LIST_RESTORED, restored)
    return restored


async def _tell(session: AsyncSession, caller: Caller, event: str, item: ContactList) -> None:
    """Record the event in this transaction: told once the delete or restore commits."""
    await webhooks.record_event(
        session,
        account_id=caller.account_id,
        bot_id=caller.bot_id,
        event_type=event,
        data=webhook_events.list_data(list_id=item.id, bot_id=caller.bot_id, name=item.name),
    )


async def in_trash(session: AsyncSession, caller: Caller) -> list[TrashedList]:
    """The bot's lists that can still be restored, the most recently deleted first."""
    found = await repository.in_trash(
        session, account_id=caller.account_id, bot_id=caller.bot_id, limit=TRASH_LIMIT
    )
    return [
        TrashedList(
            id=item.id,
            name=item.name,
            listType=item.list_type,
            totalRecordCount=item.total_record_count,
            deletedAt=item.deleted_at,
            purgeAfter=item.purge_after,
        )
        for item in found
        if item.deleted_at is not None and item.purge_after is not None
    ]
