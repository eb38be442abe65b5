"""The ``contact`` table, and ``contact_prior``: what an import's updates overwrote."""

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
    # The import job that inserted the contact, and the one that last wrote it (inserted or
    # updated); None for contacts stored otherwise, and last_job_id None again once the
    # contact is edited by hand. Undo removes or restores only what is still the job's own.
    import_job_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    last_job_id: Mapped[str | None] = mapped_column(String(48), nullable=True)

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
        Index("ix_contact_unique_id", "account_id", "list_id", "unique_id"),
        Index("ix_contact_import_job", "account_id", "list_id", "import_job_id", "position"),
    )


class ContactPrior(Base):
    """A contact's values before an import job updated it, kept so the job can be undone.

    Written in the transaction of the update; removed by the undo that restores it, with the
    contact (a deleted or purged contact leaves no copy here) and with its job.
    """

    __tablename__ = "contact_prior"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(48))
    phone: Mapped[str] = mapped_column(String(16))
    phone_verified: Mapped[bool] = mapped_column(Boolean)
    first_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unique_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    contact_priority: Mapped[str | None] = mapped_column(String(300), nullable=True)
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_job_id: Mapped[str | None] = mapped_column(String(48), nullable=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "list_id", "position"],
            ["contact.account_id", "contact.list_id", "contact.position"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "job_id"], ["job.account_id", "job.id"], ondelete="CASCADE"
        ),
        Index("ix_contact_prior_contact", "account_id", "list_id", "position"),
    )
