"""The events an app can be told of, and what each carries. Pure: no database, no network."""

from __future__ import annotations

from typing import Any

JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"
LIST_DELETED = "list.deleted"
LIST_RESTORED = "list.restored"
EVENT_TYPES = (JOB_COMPLETED, JOB_FAILED, LIST_DELETED, LIST_RESTORED)

# The job states whose end is an event (a cancelled job is one the caller ended).
JOB_END_EVENTS = {"completed": JOB_COMPLETED, "failed": JOB_FAILED}


def job_data(
    *,
    job_id: str,
    kind: str,
    bot_id: str,
    list_id: str | None,
    state: str,
    counts: dict[str, int | None],
    error: str | None,
) -> dict[str, Any]:
    """The ``data`` of a job.completed or job.failed event: the job as GET /jobs shows it."""
    return {
        "jobId": job_id,
        "jobType": kind,
        "botId": bot_id,
        "contactListId": list_id,
        "state": state,
        **counts,
        "error": error if state != "completed" else None,
    }


def list_data(*, list_id: str, bot_id: str, name: str) -> dict[str, Any]:
    """The ``data`` of a list.deleted or list.restored event."""
    return {"contactListId": list_id, "botId": bot_id, "name": name}
