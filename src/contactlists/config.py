"""Runtime settings, read from ``CONTACTLISTS_*`` environment variables.

Nothing is built at import time: callers ask :func:`get_settings` (or build a
:class:`Settings` themselves, as the tests do) and pass it along explicitly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./contactlists.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTLISTS_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLite file (the default) or a postgresql:// URL.",
    )
    db_connect_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="Longest wait to open a PostgreSQL connection; then the request gets 503.",
    )
    db_statement_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="Longest wait for one statement (SQLite: for another writer's lock); "
        "then the request gets 503.",
    )
    shutdown_grace_seconds: int = Field(
        default=30,
        ge=1,
        description="On SIGTERM, how long `serve` lets requests in flight finish.",
    )
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=3600,
        description="`serve` closes a connection that has not sent complete request headers "
        "this long after it opened (or after the first byte of its next request).",
    )
    keepalive_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=3600,
        description="`serve` closes a connection idle this long after its last response.",
    )
    max_connections: int = Field(
        default=0,
        ge=0,
        description="Open connections `serve` accepts at once; more are refused at once "
        "(0: fitted to the process's open-file limit).",
    )
    default_region: str = Field(
        default="US",
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 region for phone numbers written without a + prefix.",
    )
    data_dir: Path = Field(
        default=Path("./contactlists-data"),
        description="Where uploaded files wait for their import; shared by every worker process.",
    )
    db_idle_in_transaction_seconds: float = Field(
        default=60,
        gt=0,
        description="PostgreSQL ends a session idle inside a transaction this long (a backstop).",
    )
    upload_orphan_seconds: float = Field(
        default=3600,
        gt=0,
        description="An uploaded file no queued or running job needs is removed once this old.",
    )
    upload_sweep_seconds: float = Field(
        default=600, gt=0, description="How often job workers look for such files."
    )
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    body_timeout_seconds: float = Field(
        default=60,
        gt=0,
        description="Longest time a client may take to send a JSON body (then 408); no "
        "database connection is held meanwhile.",
    )
    upload_timeout_seconds: float = Field(
        default=1800,
        gt=0,
        description="Longest time a client may take to send an upload (then 408).",
    )
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    max_stored_row_errors: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="Row errors a job keeps (its first ones); its invalid count counts them all.",
    )
    max_decompressed_bytes: int = Field(
        default=4 * 1024**3,
        ge=1024,
        description="Largest upload once decompressed (then 413), checked while reading it.",
    )
    max_compression_ratio: int = Field(
        default=100,
        ge=2,
        description="Largest decompressed-to-compressed ratio of an upload past 16 MiB (a zip "
        "bomb), then 413.",
    )
    max_batch: int = Field(default=10_000, ge=1, description="Most items in one addContacts call.")
    local_calling_hours: str = Field(
        default="08:00-21:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$",
        description="Hours (HH:MM-HH:MM) a contact may be called in its own time zone, "
        "besides the campaign's callingHours.",
    )
    rate_limit_per_minute: int = Field(
        default=0,
        ge=0,
        description="Requests per account per window, over all its apps and bots (0: no limit).",
    )
    rate_limit_window_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="The rate limit's window; 60 unless testing.",
    )
    app_cache_check_seconds: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="How often at most a process re-reads the apps' change counter; a revoked "
        "app is refused by every process this long after the revocation (0: at every request).",
    )
    processes: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="API processes `serve` runs on its one port (default: 1 on SQLite, the "
        "number of cores on PostgreSQL).",
    )
    workers: int = Field(
        default=1,
        ge=0,
        description="Job workers run inside `serve` (0: run `contactlists worker`).",
    )
    normalise_processes: int = Field(
        default=2,
        ge=0,
        description="Processes that normalise phone numbers during imports (0: a thread).",
    )
    import_batch_rows: int = Field(default=5_000, ge=1, le=50_000)
    job_poll_seconds: float = Field(default=0.5, gt=0)
    job_stale_seconds: float = Field(
        default=30, gt=0, description="A running job silent this long is taken over."
    )
    job_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed attempts before a job fails (a takeover after a crash is not one; "
        "the purge of a deleted list never gives up).",
    )
    job_retry_seconds: float = Field(
        default=2,
        gt=0,
        description="Pause before a failed job is tried again; it doubles with each attempt.",
    )
    job_retry_max_seconds: float = Field(
        default=600, gt=0, description="The longest pause between two tries of a failed job."
    )
    trash_days: float = Field(
        default=7,
        ge=0,
        le=3650,
        description="Days a deleted list can be restored before it is purged (0: purge at once).",
    )
    purge_batch_rows: int = Field(
        default=5_000,
        ge=1,
        le=100_000,
        description="Contacts a purge removes per transaction; readers never wait behind more.",
    )
    jwt_leeway_seconds: int = Field(default=60, ge=0)
    webhook_allow_http: bool = Field(
        default=False,
        description="Accept plain http:// webhook URLs (local setups and tests); else https only.",
    )
    webhook_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="Longest wait for a webhook receiver's answer; then the try has failed.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=30,
        description="Tries of one webhook delivery before it is given up (recorded as failed).",
    )
    webhook_retry_seconds: float = Field(
        default=30,
        gt=0,
        description="Pause before a failed webhook delivery is tried again; it doubles each try.",
    )
    webhook_retry_max_seconds: float = Field(
        default=3600, gt=0, description="The longest pause between two tries of a delivery."
    )
    webhook_poll_seconds: float = Field(
        default=1, gt=0, description="How often job workers look for webhook deliveries due."
    )
    console: bool = Field(
        default=True,
        description="Serve the web console at /console (and its sign-in at /console/token).",
    )
    console_token_seconds: int = Field(
        default=1800,
        ge=60,
        le=86400,
        description="How long a token the console's sign-in issues stays valid.",
    )
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines as JSON objects or text; auto: text on a terminal, else JSON.",
    )

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value} is not an ISO 3166 region known to the phone-number rules")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
