"""Workers killed while they hold a job: the loop the kill tests share.

Each round starts a real ``contactlists worker``, waits until it holds the job and has made
progress beyond the last round's, SIGKILLs it, and checks the job is still running (so the next
worker has it to take over once its heartbeat is stale).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI

from contactlists.models.jobs import Job
from tests.support.durable import sessions, wait_until
from tests.support.processes import Processes


async def the_job(app: FastAPI, account_id: str, job_id: str) -> Job:
    async with sessions(app)() as session:
        found = await session.get(Job, (account_id, job_id), populate_existing=True)
    assert found is not None
    return found


def held_by(job: Job, pid: int) -> bool:
    return job.state == "running" and f":{pid}:" in (job.locked_by or "")


async def kill_while_running(
    started: Processes,
    database_url: str,
    env: Mapping[str, str],
    kills: int,
    job: Callable[[], Awaitable[Job]],
    progress: Callable[[Job], Awaitable[int]],
    what: str,
    at_kill: Callable[[Job], Awaitable[None]] | None = None,
) -> int:
    """Kill ``kills`` workers in turn, each once ``progress`` (a count that only grows, from 0)
    is past the last kill's; ``at_kill`` checks more of the job as each kill left it. Returns the
    progress at the last kill."""
    seen = 0
    for _ in range(kills):
        worker = started.worker(database_url, env)

        async def progressed(pid: int = worker.pid, since: int = seen) -> bool:
            found = await job()
            return held_by(found, pid) and await progress(found) > since

        await wait_until(progressed, what, logs=started)
        worker.kill()
        killed = await job()
        assert killed.state == "running", "killed before the end"
        if at_kill is not None:
            await at_kill(killed)
        seen = await progress(killed)
    return seen
