"""When a failed call is tried again, and after how long.

Only what cannot have changed anything twice is retried: idempotent calls (reads, PUT,
DELETE) after 502/503/504 or a broken connection, and every call after a 429, which the
service answers before it does anything. A POST that may have reached the service is never
sent again: the caller gets the error and decides.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from contactlists.client._errors import retry_after_seconds

RETRYABLE_STATUSES = frozenset({502, 503, 504})
RATE_LIMITED = 429


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` further attempts, waiting an exponentially growing, jittered delay.

    The n-th retry waits a random time between half and all of ``min(backoff_max,
    backoff_base * 2**n)`` seconds, or what a 429's ``Retry-After`` asks for (at most
    ``retry_after_max``).
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")

    def answer_delay(
        self, response: httpx.Response, attempt: int, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after ``response``, or None not to retry."""
        if attempt >= self.max_retries:
            return None
        if response.status_code == RATE_LIMITED:
            asked = retry_after_seconds(response)
            if asked is not None:
                return min(asked, self.retry_after_max)
            return self.backoff(attempt)
        if idempotent and response.status_code in RETRYABLE_STATUSES:
            return self.backoff(attempt)
        return None

    def failure_delay(self, attempt: int, idempotent: bool) -> float | None:
        """Seconds to wait before retrying after a connection error, or None not to retry."""
        if attempt >= self.max_retries or not idempotent:
            return None
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return ceiling * (0.5 + random.random() / 2)  # jitter, not a secret
