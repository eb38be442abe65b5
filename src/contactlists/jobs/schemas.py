"""Wire schemas of jobs (CONTRACT §4.8). Pydantic only, so the SDK can reuse them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contactlists.schemas import Timestamp

JobState = Literal["queued", "running", "completed", "failed", "cancelled"]


class RowErrorOut(BaseModel):
    row: int
    field: str
    code: str
    value: str
    message: str


class JobOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(alias="_id")
    type: str
    state: JobState
    contactListId: str | None
    total: int | None
    processed: int
    inserted: int
    duplicates: int
    invalid: int
    # An extension: of the contacts inserted, those whose numbers are only plausible (stored,
    # flagged phoneVerified false). Defaults for jobs answered by older services.
    unverified: int = 0
    # Extensions, 0 or null for jobs answered by older services: contacts an import with
    # onDuplicate "update" overwrote; contacts an undo removed and restored; the undo job
    # queued for this import, if any.
    updated: int = 0
    removed: int = 0
    restored: int = 0
    undoneBy: str | None = None
    errors: list[RowErrorOut]
    createdAt: Timestamp
    startedAt: Timestamp | None
    finishedAt: Timestamp | None
    # Why a job failed or was cancelled by the service (extension); null otherwise.
    error: str | None = None


class JobSummary(BaseModel):
    """A job without its row errors: what the list of a bot's recent jobs shows of each."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(alias="_id")
    type: str
    state: JobState
    contactListId: str | None
    total: int | None
    processed: int
    inserted: int
    duplicates: int
    invalid: int
    updated: int = 0
    removed: int = 0
    restored: int = 0
    undoneBy: str | None = None
    createdAt: Timestamp
    startedAt: Timestamp | None
    finishedAt: Timestamp | None
    error: str | None = None
