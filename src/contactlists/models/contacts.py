"""The ``contact`` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKeyConstraint, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime

# A search key: a name or uniqueId case-folded by Python (contacts.search), so both databases
# fold alike. Compared by code point ("C" collation on PostgreSQL; SQLite's BINARY is
# already that), which makes a prefix one index range: [prefix, the prefix's successor).
SearchKey = String().with_variant(String(collation="C"), "postgresql")


class Contact(Base):
    __tablename__ = "contact"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    # Insertion order within the list: the paging key, handed out by the list row.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[str] = mapped_column(String(48))
    phone: Mapped[str] = mapped_column(String(16))
    # False for a number stored though libphonenumber does not know it as valid (plausible only).
    phone_verified: Mapped[bool] = mapped_column(Boolean, server_default=true())
    first_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unique_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    contact_priority: Mapped[str | None] = mapped_column(String(300), nullable=True)
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The search keys of first_name, last_name and unique_id (None when the field is), written
    # with them by every insert and update (contacts.repository).
    first_key: Mapped[str | None] = mapped_column(SearchKey, nullable=True)
    last_key: Mapped[str | None] = mapped_column(SearchKey, nullable=True)
    unique_key: Mapped[str | None] = mapped_column(SearchKey, nullable=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "list_id"], ["contact_list.account_id", "contact_list.id"]
        ),
        Index("uq_contact_public_id", "account_id", "id", unique=True),
        Index("ix_contact_phone", "account_id", "list_id", "phone"),
        # The `search` filter: one range per key, merged (docs/architecture.md).
        Index("ix_contact_first_key", "account_id", "list_id", "first_key"),
        Index("ix_contact_last_key", "account_id", "list_id", "last_key"),
        Index("ix_contact_unique_key", "account_id", "list_id", "unique_key"),
    )
