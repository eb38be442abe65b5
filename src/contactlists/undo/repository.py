"""All SQL of undo that is not about contacts: marking an import as undone."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.models.jobs import FINAL_STATES, Job

# An undo that ended so may be followed by another (what it did is not undone twice: each
# batch works only on what is still the import's own).
UNDO_ENDED_UNDONE = ("failed", "cancelled")


async def mark_undone(session: AsyncSession, *, account_id: str, job_id: str, undo_id: str) -> bool:
    """Record ``undo_id`` as the undo of the finished job, unless another undo holds it.

    One conditional statement: of two concurrent undos of one import, one changes the row and
    the other (after the first commits, on PostgreSQL's row lock) finds it taken.
    """
    ended_undos = select(Job.id).where(
        Job.account_id == account_id, Job.state.in_(UNDO_ENDED_UNDONE)
    )
    result = await session.execute(
        update(Job)
        .where(
            Job.account_id == account_id,
            Job.id == job_id,
            Job.state.in_(FINAL_STATES),
            or_(Job.undone_by.is_(None), Job.undone_by.in_(ended_undos.scalar_subquery())),
        )
        .values(undone_by=undo_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
