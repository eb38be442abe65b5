"""A log that cannot flood: at most a few lines of one kind per interval, then a count.

When connections fail by the thousand (a port scan, half-open connections, a client pool gone
mad), asyncio and uvicorn write a line, often with a traceback, for each. One hostile client
could so fill the disk and bury what matters. The guard lets ``burst`` records of each kind
(logger and message template) pass per ``interval`` seconds and counts the rest; the first
record of a kind after a quiet interval carries how many were held back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# The loggers that write a line per failing connection.
CONNECTION_LOGGERS = ("asyncio", "uvicorn.error", "contactlists.server")


class FloodGuard(logging.Filter):
    def __init__(
        self,
        burst: int = 5,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        # kind -> (start of its interval, records passed in it, records held back in it)
        self._kinds: dict[tuple[str, str], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            started, passed, held = self._kinds.get(kind, (now, 0, 0))
            if now - started >= self.interval:
                if held:
                    record.msg = f"{record.msg} (and {held} more like it in the last interval)"
                started, passed, held = now, 0, 0
            if passed < self.burst:
                self._kinds[kind] = (started, passed + 1, held)
                return True
            self._kinds[kind] = (started, passed, held + 1)
            return False


def guard_connection_logs(guard: FloodGuard | None = None) -> FloodGuard:
    """Install one guard on every logger that writes a line per failing connection."""
    guard = guard or FloodGuard()
    for name in CONNECTION_LOGGERS:
        logger = logging.getLogger(name)
        if guard not in logger.filters:
            logger.addFilter(guard)
    return guard
