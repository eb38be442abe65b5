"""The ``contact`` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKeyConstraint, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime


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

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "list_id"], ["contact_list.account_id", "contact_list.id"]
        ),
        Index("uq_contact_public_id", "account_id", "id", unique=True),
        Index("ix_contact_phone", "account_id", "list_id", "phone"),
    )
