"""All SQL of the trash: taking a list away, bringing it back, and removing it for good."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.lists import repository as lists_repository
from contactlists.models import CampaignList, ContactList, Job, JobError, utcnow


async def get_in_trash(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str
) -> ContactList | None:
    """A deleted list that can still be restored."""
    return await session.scalar(
        select(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.id == list_id,
            ContactList.deleted_at.is_not(None),
            ContactList.purge_after > utcnow(),
        )
    )


async def in_trash(
    session: AsyncSession, *, account_id: str, bot_id: str, limit: int
) -> Sequence[ContactList]:
    """The bot's deleted lists that can still be restored, the most recently deleted first."""
    query = (
        select(ContactList)
        .where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.deleted_at.is_not(None),
            ContactList.purge_after > utcnow(),
        )
        .order_by(ContactList.deleted_at.desc(), ContactList.id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def get_deleted(
    session: AsyncSession, *, account_id: str, list_id: str
) -> ContactList | None:
    """The list if it is deleted (in the trash or due for its purge); None if live or gone."""
    return await session.scalar(
        select(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.id == list_id,
            ContactList.deleted_at.is_not(None),
        )
    )


async def mark_deleted(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str, purge_after: datetime
) -> ContactList | None:
    """Take the list away from every reader and free its name; the row as it was, or None.

    Only ``deleted_at`` and ``purge_after`` change, neither of them shown, so the returned row
    is the list exactly as it was. Of concurrent calls for one list, exactly one gets the row.
    """
    statement = (
        update(ContactList)
        .where(*lists_repository.live(account_id, bot_id, list_id))
        .values(deleted_at=utcnow(), purge_after=purge_after)
        .returning(ContactList)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def restore(
    session: AsyncSession, *, account_id: str, bot_id: str, list_id: str
) -> ContactList | None:
    """Bring a list in the trash back; None if it is not there (or its time is up).

    Raises NameTaken when a live list has taken its name meanwhile.
    """
    statement = (
        update(ContactList)
        .where(
            ContactList.account_id == account_id,
            ContactList.bot_id == bot_id,
            ContactList.id == list_id,
            ContactList.deleted_at.is_not(None),
            ContactList.purge_after > utcnow(),
        )
        .values(deleted_at=None, purge_after=None)
        .returning(ContactList)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return await lists_repository.one_unless_name_taken(session, statement)


async def detach_from_campaigns(session: AsyncSession, *, account_id: str, list_id: str) -> None:
    """Remove the list from every campaign that references it (delete with ``force``)."""
    await session.execute(
        delete(CampaignList).where(
            CampaignList.account_id == account_id, CampaignList.list_id == list_id
        )
    )


async def remove_deleted(session: AsyncSession, *, account_id: str, list_id: str) -> None:
    """Remove a deleted list's row for good, once its contacts are gone (the purge's end)."""
    await session.execute(
        delete(ContactList).where(
            ContactList.account_id == account_id,
            ContactList.id == list_id,
            ContactList.deleted_at.is_not(None),
        )
    )


async def jobs_of_kind(
    session: AsyncSession, *, account_id: str, list_id: str, kind: str
) -> Sequence[Job]:
    """Every job of one kind for the list, whatever its state (the purge's last sweep)."""
    return (
        await session.scalars(
            select(Job).where(
                Job.account_id == account_id, Job.list_id == list_id, Job.kind == kind
            )
        )
    ).all()


async def other_job_ids(
    session: AsyncSession, *, account_id: str, list_id: str, purge_id: str
) -> list[str]:
    """The ids of every job of the list but its purge ``purge_id``, whatever their state."""
    query = select(Job.id).where(
        Job.account_id == account_id, Job.list_id == list_id, Job.id != purge_id
    )
    return list((await session.scalars(query)).all())


async def delete_job_errors(
    session: AsyncSession, *, account_id: str, job_id: str, limit: int | None
) -> int:
    """Delete the job's first ``limit`` row errors (all with None); how many went."""
    of_job = (JobError.account_id == account_id, JobError.job_id == job_id)
    statement = delete(JobError).where(*of_job)
    if limit is not None:
        first = select(JobError.row).where(*of_job).order_by(JobError.row).limit(limit)
        statement = statement.where(JobError.row.in_(first.scalar_subquery()))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_jobs(session: AsyncSession, *, account_id: str, job_ids: Sequence[str]) -> None:
    """Remove these jobs for good (their list is being purged): they then answer 404."""
    if job_ids:
        await session.execute(
            delete(Job)
            .where(Job.account_id == account_id, Job.id.in_(job_ids))
            .execution_options(synchronize_session=False)
        )
