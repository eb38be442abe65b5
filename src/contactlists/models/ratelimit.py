"""The ``rate_limit`` table: requests counted per account and fixed window.

The counter lives in the database so that every server process on it shares one limit.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contactlists.models.base import Base


class RateLimitWindow(Base):
    __tablename__ = "rate_limit"

    account_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    # The window's first second, in seconds since the Unix epoch: a multiple of its length.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
