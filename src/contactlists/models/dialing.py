"""The dialing record: what happened to each contact of a campaign, and who holds it now.

``dialing_record`` has one row per (campaign, contact), made when the dialer first sees the
contact (``dialing_admission`` remembers how far each of the campaign's lists was admitted).
``state`` with ``due_at`` answers "who may be called now" by index: a contact is picked only
from ``ready`` rows, in the order of ``ix_dialing_record_pick``; the rows whose wait ends
(a lease, a retry period, a callback, a closed calling window, a DNC entry to check again)
come back to ``ready`` through ``ix_dialing_record_due``. ``dialing_lease`` keeps each lease
handed out, so an outcome can be told apart as accepted, repeated, late or unknown.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime

# The states of a record; ``due_at`` is when a waiting state returns to ``ready``.
READY = "ready"
LEASED = "leased"  # due_at: the lease's end
WAITING = "waiting"  # due_at: the retry time or the callback time
WINDOW = "window"  # due_at: the earliest moment the contact's calling window may open
DNC = "dnc"  # due_at: when the DNC entry ends, or when to look at the DNC lists again
OPTED_OUT = "opted_out"
EXHAUSTED = "exhausted"
DONE = "done"
GONE = "gone"  # its contact was deleted from the list
RETURNING = (LEASED, WAITING, WINDOW, DNC)
FINAL = (OPTED_OUT, EXHAUSTED, DONE, GONE)


class DialingRecord(Base):
    __tablename__ = "dialing_record"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    # The contact, by the key of its own table (account_id, list_id, position).
    list_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(48))
    phone: Mapped[str] = mapped_column(String(16))
    # The zones whose local calling window must be open, comma-separated: the contact's own
    # zone, else every zone its number can be in; "" when nothing is known (campaign's zone).
    zones: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # 0 for a callback, 1 otherwise: callbacks due come first.
    rank: Mapped[int] = mapped_column(SmallInteger)
    # contactPriority as a number (lower first); contacts without one come after.
    priority: Mapped[int] = mapped_column(BigInteger)
    # The campaign's dialingOrder as a number: the contact's creation time, negated for LIFO.
    seq: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    dialer_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    dispositions: Mapped[list[str]] = mapped_column(JSON)
    bot_session_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(512), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaign.account_id", "campaign.id"],
            ondelete="CASCADE",
        ),
        # A record holds its contact's number: it goes with the contact (a single delete, or
        # the purge of the list), so a deleted contact leaves no copy here.
        ForeignKeyConstraint(
            ["account_id", "list_id", "position"],
            ["contact.account_id", "contact.list_id", "contact.position"],
            ondelete="CASCADE",
        ),
        # What that cascade looks a deleted contact's records up by.
        Index("ix_dialing_record_contact", "account_id", "list_id", "position"),
        # dialer/next: the ready rows of a campaign in the contract's order.
        Index(
            "ix_dialing_record_pick",
            "account_id",
            "campaign_id",
            "state",
            "rank",
            "priority",
            "seq",
            "list_id",
            "position",
        ),
        # The rows whose wait is over, and the summary's counts by state.
        Index("ix_dialing_record_due", "account_id", "campaign_id", "state", "due_at"),
    )


class DialingLease(Base):
    """One lease handed out by dialer/next, and the outcome reported for it."""

    __tablename__ = "dialing_lease"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(48))
    list_id: Mapped[str] = mapped_column(String(48))
    position: Mapped[int] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaign.account_id", "campaign.id"],
            ondelete="CASCADE",
        ),
        Index("ix_dialing_lease_campaign", "account_id", "campaign_id"),
    )


class DialingAdmission(Base):
    """How far each list of a campaign has been admitted into ``dialing_record``."""

    __tablename__ = "dialing_admission"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    # Every contact of the list up to this position has its record.
    position: Mapped[int] = mapped_column(BigInteger)
    # Whether the admitted contacts were given their order for FIFO or LIFO.
    lifo: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaign.account_id", "campaign.id"],
            ondelete="CASCADE",
        ),
    )
