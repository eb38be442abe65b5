"""The rate limit: at most N requests per account in each fixed window (60 s by default).

Windows are aligned on the Unix epoch (``start = now - now % length``), so every process
computes the same window from its own clock (keep the clocks in sync, as NTP does) and
counts in the same row. Each check is its own short transaction: the count is kept even
when the request later fails, and no request holds the counter's row lock for longer than
one statement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.config import Settings
from contactlists.errors import RateLimited
from contactlists.ratelimit import repository

Clock = Callable[[], float]


class RateLimiter:
    """Counts an account's requests; raises RateLimited past the limit of the window."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock = time.time,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.limit = settings.rate_limit_per_minute
        self.window_seconds = settings.rate_limit_window_seconds
        # Seconds since the epoch; tests replace it to move between windows without waiting.
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    async def check(self, account_id: str) -> None:
        """Count this request of ``account_id``; RateLimited if it is over the window's limit."""
        if not self.enabled:
            return
        now = self.clock()
        window_start = int(now // self.window_seconds) * self.window_seconds
        async with self.sessionmaker() as session, session.begin():
            count = await repository.count_request(
                session, account_id=account_id, window_start=window_start
            )
            if count == 1:
                # The account's first request of a window clears its windows before the
                # previous one: the table keeps at most two rows per account.
                await repository.forget_windows_before(
                    session, account_id=account_id, before=window_start - self.window_seconds
                )
        if count > self.limit:
            window_end = window_start + self.window_seconds
            raise RateLimited(retry_after_seconds=max(1, math.ceil(window_end - now)))
