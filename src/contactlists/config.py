"""Runtime settings, read from ``CONTACTLISTS_*`` environment variables.

Nothing is built at import time: callers ask :func:`get_settings` (or build a
:class:`Settings` themselves, as the tests do) and pass it along explicitly.
"""

from __future__ import annotations

from functools import lru_cache

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
    default_region: str = Field(
        default="US",
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 region for phone numbers written without a + prefix.",
    )
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    jwt_leeway_seconds: int = Field(default=60, ge=0)
    log_level: str = "INFO"

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value} is not an ISO 3166 region known to the phone-number rules")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
