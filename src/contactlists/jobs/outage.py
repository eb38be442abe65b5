"""How a worker lives through the database going away: one log line, longer waits, resume.

A worker that cannot reach the database is not broken and neither is its job: it logs the
outage once (not a traceback every poll), waits a little longer after each failed try, up
to ``MAX_DELAY_SECONDS``, and says when the database answers again.
"""

from __future__ import annotations

import logging
import time

from contactlists.db.unavailable import is_unavailable

log = logging.getLogger("contactlists.jobs")

MAX_DELAY_SECONDS = 5.0


class Outage:
    """One worker's record of a database outage; ``failed`` says how long to wait next."""

    def __init__(self, worker: str, first_delay: float, max_delay: float = MAX_DELAY_SECONDS):
        self.worker = worker
        self.first_delay = first_delay
        self.max_delay = max(max_delay, first_delay)
        self.delay = first_delay
        self.since: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def failed(self, error: Exception, doing: str) -> float:
        """Log ``error`` met while ``doing``; the seconds to wait before trying again."""
        if not is_unavailable(error):
            # A bug, not an outage: worth its traceback, and no reason to wait longer.
            log.exception("worker %s could not %s", self.worker, doing)
            return self.first_delay
        if self.since is None:
            self.since = time.monotonic()
            self.delay = self.first_delay
            log.warning(
                "worker %s could not %s: the database is unavailable (%s); "
                "waiting for it, up to %.0f s between tries",
                self.worker,
                doing,
                type(error).__name__,
                self.max_delay,
            )
        else:
            self.delay = min(self.delay * 2, self.max_delay)
        return self.delay

    def succeeded(self) -> None:
        if self.since is not None:
            log.warning(
                "worker %s: the database is reachable again after %.1f s",
                self.worker,
                time.monotonic() - self.since,
            )
        self.since = None
        self.delay = self.first_delay
