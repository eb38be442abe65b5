"""The ``app`` table: API credentials, managed by the operator with the CLI.

Apps are the root of tenancy (each names its account), so the table is keyed by
``client_id`` alone; in a distributed deployment it is a reference table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime


class App(Base):
    __tablename__ = "app"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # HMAC verification needs the secret itself, so it cannot be stored hashed.
    client_secret: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(24), index=True)
    org_id: Mapped[str] = mapped_column(String(64))
    # None means every bot of the account.
    bots: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    algorithms: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AppGeneration(Base):
    """One row counting the changes to ``app``: processes that cache apps re-read it.

    A trigger (made by the migration, on both databases) adds one to ``generation`` in the same
    transaction as any UPDATE or DELETE of ``app``, whoever makes it: ``apps revoke``, another
    process, or a statement typed by hand. A process that sees the number change forgets every
    app it cached (``apps/cache.py``).
    """

    __tablename__ = "app_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)
