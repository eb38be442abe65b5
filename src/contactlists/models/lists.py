"""The ``contact_list`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime


class ContactList(Base):
    __tablename__ = "contact_list"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    bot_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(48))
    # casefold() may lengthen a name (ß -> ss), hence the wider column.
    lname: Mapped[str] = mapped_column(String(192))
    description: Mapped[str] = mapped_column(String(256))
    list_type: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    allow_duplicates: Mapped[bool] = mapped_column(Boolean)
    # What makes two contacts the same: "phoneNumber" or "uniqueId" (when duplicates are not
    # allowed, an import skips or updates the contact its row matches by this key).
    dedupe_key: Mapped[str] = mapped_column(String(16), server_default="phoneNumber")
    default_region: Mapped[str] = mapped_column(String(2))
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    columns: Mapped[list[str]] = mapped_column(JSON)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_record_count: Mapped[int] = mapped_column(BigInteger)
    # The last contact position handed out; positions are never reused, so paging is stable.
    last_position: Mapped[int] = mapped_column(BigInteger, server_default="0")
    is_global_dnc: Mapped[bool] = mapped_column(Boolean)
    is_default: Mapped[bool] = mapped_column(Boolean)
    org_id: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(256))
    updated_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by delete: the list vanishes for every reader and its name is free at once,
    # while its contacts are purged later.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A deleted list stays in the trash, restorable with its contacts, until this moment; then
    # its contacts and the row are purged. None while the list is live.
    purge_after: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # Names are unique among live lists only, so a deleted list's name is reusable.
        Index(
            "uq_contact_list_live_name",
            "account_id",
            "bot_id",
            "lname",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_contact_list_recent", "account_id", "bot_id", "updated_at"),
        # Deleted lists by the end of their trash period.
        Index("ix_contact_list_purge", "purge_after"),
    )
