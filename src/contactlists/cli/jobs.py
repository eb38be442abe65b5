"""``contactlists jobs``: follow, inspect and cancel import jobs.

``follow`` and ``report`` are shared with ``contacts import`` and ``contacts add``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from contactlists.cli._connection import Session, command
from contactlists.cli._output import CommandFailure, cell, details, listing, timestamp
from contactlists.cli._progress import Meter
from contactlists.client import Job, RowError, WaitTimeout

app = typer.Typer(help="Import jobs: show (and wait for) them, their row errors, cancel them.")

JobId = Annotated[str, typer.Argument(help="The job's id (job-…).", show_default=False)]
WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="Follow the job with a progress bar until it ends."),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0,
        help="With --wait: give up waiting after this many seconds (the job goes on).",
        show_default=False,
    ),
]


# The kind of job an undo is (the service's name for it).
UNDO = "undo_import"


def job_details(job: Job) -> Table:
    rows: list[tuple[str, object]] = [
        ("job", job.id),
        ("type", job.type),
        ("state", job.state),
        ("list", job.contactListId),
        ("rows", job.total if job.total is not None else f"{job.processed:,} so far"),
        ("processed", job.processed),
        ("inserted", job.inserted),
        *([("updated", job.updated)] if job.updated else []),
        *([("removed", job.removed), ("restored", job.restored)] if job.type == UNDO else []),
        ("duplicates", job.duplicates),
        ("invalid", job.invalid),
        ("unverified", job.unverified),
        ("created", timestamp(job.createdAt)),
        ("started", timestamp(job.startedAt) if job.startedAt else None),
        ("finished", timestamp(job.finishedAt) if job.finishedAt else None),
    ]
    if job.undoneBy:
        rows.append(("undone by", job.undoneBy))
    if job.error:
        rows.append(("error", job.error))
    return details(rows)


def follow(cli: Session, job_id: str, *, total: int | None, timeout: float | None) -> Job:
    """Wait for the job to end, showing its progress on stderr (not with --json/--quiet)."""
    enabled = not (cli.out.json_mode or cli.out.quiet)
    with Meter(cli.out.stderr, "imported", total=total, enabled=enabled) as meter:
        try:
            job = cli.api.jobs.wait(
                job_id,
                timeout=timeout,
                on_progress=lambda seen: meter.update(seen.processed, seen.total or total),
            )
        except WaitTimeout as exc:
            raise CommandFailure(
                f"{exc}; it goes on: follow it with `contactlists jobs show {job_id} --wait`"
            ) from None
        except KeyboardInterrupt:
            cli.out.note(
                f"stopped waiting; job {job_id} goes on: "
                f"`contactlists jobs show {job_id} --wait` follows it"
            )
            raise
        meter.finish(job.processed)
    return job


def report(cli: Session, job: Job) -> None:
    """Print a finished job's counts; a failed or cancelled job makes the command fail."""
    cli.out.result(job, lambda: job_details(job))
    if job.invalid or job.duplicates:
        counts = [
            f"{job.invalid:,} row{'s' if job.invalid != 1 else ''} rejected" if job.invalid else "",
            f"{job.duplicates:,} duplicate{'s' if job.duplicates != 1 else ''} skipped"
            if job.duplicates
            else "",
        ]
        cli.out.note(
            f"{', '.join(c for c in counts if c)}; "
            f"see each row with: contactlists jobs errors {job.id}"
        )
    if job.unverified:
        cli.out.note(
            f"{job.unverified:,} number{'s' if job.unverified != 1 else ''} stored unverified "
            "(plausible, but not known to be valid)"
        )
    if job.state in ("failed", "cancelled"):
        reason = f": {job.error}" if job.error else ""
        raise CommandFailure(f"job {job.id} {job.state}{reason}")


@app.command("show")
@command(quiet_option=True)
def show(
    cli: Session, job_id: JobId, wait: WaitOption = False, timeout: TimeoutOption = None
) -> None:
    """Show a job's state and counts; with --wait, follow it to its end."""
    if not wait:
        job = cli.api.jobs.get(job_id)
        cli.out.result(job, lambda: job_details(job))
        return
    report(cli, follow(cli, job_id, total=None, timeout=timeout))


def errors_table(found: list[RowError]) -> Table:
    table = listing()
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("field", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("message", overflow="fold")
    for item in found:
        table.add_row(
            cell(item.row), cell(item.field), cell(item.code), cell(item.value), cell(item.message)
        )
    table.caption = f"{len(found):,} row error{'' if len(found) == 1 else 's'}"
    return table


@app.command("errors")
@command()
def errors(cli: Session, job_id: JobId) -> None:
    """List every row a job rejected, and why (row = the line in the file, header is 1)."""
    found = cli.api.jobs.errors(job_id)
    cli.out.result(found, lambda: errors_table(found))


@app.command("cancel")
@command()
def cancel(cli: Session, job_id: JobId) -> None:
    """Cancel a queued or running import: it stores no more batches.

    The contacts it already stored stay in the list; a queued import stored none.

    A finished job is left as it is.
    """
    job = cli.api.jobs.cancel(job_id)
    cli.out.result(job, lambda: job_details(job))


@app.command("undo")
@command(quiet_option=True)
def undo(
    cli: Session, job_id: JobId, wait: WaitOption = False, timeout: TimeoutOption = None
) -> None:
    """Undo a finished import: remove the contacts it inserted, restore those it updated.

    Contacts changed since (by a later import, or by hand) are left as they are; the undo's
    row errors name them. Prints the undo's job id, or with --wait follows it to its end.
    """
    accepted = cli.api.jobs.undo(job_id)
    if not wait:
        if cli.out.json_mode:
            cli.out.json(accepted)
            return
        cli.out.line(accepted.jobId)
        cli.out.note(f"follow it with: contactlists jobs show {accepted.jobId} --wait")
        return
    report(cli, follow(cli, accepted.jobId, total=None, timeout=timeout))
