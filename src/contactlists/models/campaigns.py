"""The ``campaign`` table and ``campaign_list``, the references that make a list "in use"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base, UtcDateTime


class Campaign(Base):
    __tablename__ = "campaign"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    bot_id: Mapped[str] = mapped_column(String(128))
    campaign_type: Mapped[str] = mapped_column(String(8))  # voice | sms
    name: Mapped[str] = mapped_column(String(48))
    # casefold() may lengthen a name (ß -> ss), hence the wider column.
    lname: Mapped[str] = mapped_column(String(192))
    description: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(1))
    dialing_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The rest of the campaign as validated (dialingStrategy, schedule, message, …): shown back,
    # never queried. What get-all filters or sorts on has a column of its own.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The run started by the latest play (cid-…); None until the campaign first starts.
    instance_id: Mapped[str | None] = mapped_column(String(48), nullable=True)
    created_by: Mapped[str] = mapped_column(String(256))
    updated_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Campaigns are deleted outright, so names are unique among all rows.
        Index("uq_campaign_name", "account_id", "bot_id", "lname", unique=True),
        Index("ix_campaign_recent", "account_id", "bot_id", "campaign_type", "updated_at"),
    )


class CampaignList(Base):
    """A campaign's reference to a contact list or DNC list, by id (names resolve on write)."""

    __tablename__ = "campaign_list"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))  # contacts | dnc
    # The list's place in the campaign's `contactLists`, which answers in the order given.
    ordinal: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "campaign_id"],
            ["campaign.account_id", "campaign.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["account_id", "list_id"], ["contact_list.account_id", "contact_list.id"]
        ),
        # "Which campaigns use this list": every list read and the delete guard ask it.
        Index("ix_campaign_list_list", "account_id", "list_id"),
    )
