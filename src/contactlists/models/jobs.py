"""The ``job`` table (durable background work) and ``job_error`` (per-row problems)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime

# A job's kind is a name its feature owns (the handlers are registered in contactlists.tasks);
# the table and the queue know only these states.
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "failed", "cancelled")


class Job(Base):
    __tablename__ = "job"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    bot_id: Mapped[str] = mapped_column(String(128))
    list_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    # A small description of the work (an upload's file id, its column mapping).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The data the job imports, when the request carried it (the items of an addContacts call):
    # kept only while the job may still run, set to NULL by the statement that ends it
    # (completed, failed or cancelled). A column of its own so that no JSON has to be parsed
    # to drop it: PostgreSQL's JSON functions refuse the escaped NUL a hostile item may hold.
    input_data: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    total: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    processed: Mapped[int] = mapped_column(BigInteger)
    inserted: Mapped[int] = mapped_column(BigInteger)
    duplicates: Mapped[int] = mapped_column(BigInteger)
    invalid: Mapped[int] = mapped_column(BigInteger)
    # Contacts an import overwrote (onDuplicate "update"); contacts an undo removed and restored.
    updated: Mapped[int] = mapped_column(BigInteger, server_default="0")
    removed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    restored: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # The undo job queued for this import: set once, so an import is undone at most once.
    undone_by: Mapped[str | None] = mapped_column(String(48), nullable=True)
    # Of those inserted, the contacts whose numbers are plausible but not verified.
    unverified: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # Where a resumed job starts: items consumed (addContacts) or the last file line consumed.
    progress_cursor: Mapped[int] = mapped_column(BigInteger)
    # Claims of a queued job: each failed attempt counts towards ``job_max_attempts``.
    attempts: Mapped[int] = mapped_column(Integer)
    # Claims of a running job whose worker went silent (killed, cut off): a crash is not the
    # job's failure, so these are counted apart and spend no attempt.
    takeovers: Mapped[int] = mapped_column(Integer)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Not claimed before this moment: creation for most jobs; the end of the trash period for
    # the purge of a deleted list (restore cancels it while it still waits).
    run_after: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ix_job_claim", "state", "run_after"),
        Index("ix_job_list", "account_id", "list_id", "state"),
    )


class JobError(Base):
    __tablename__ = "job_error"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    row: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    field: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(String(300))
