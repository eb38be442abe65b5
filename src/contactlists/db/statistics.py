"""When a process that grows a table has PostgreSQL re-read the table's statistics.

The planner takes a table it has never analysed as nearly empty and then chooses among indexes
that look alike at random: with the contact table unanalysed, each foreign-key check of a
dialing record read the whole list through the wrong index (14 ms a record at 100,000
contacts), and with the dialing records unanalysed each pick sorted the campaign instead of
reading its pick index (about 2 s a call at 1,000,000 contacts). Autovacuum analyses a table
within a minute or so where it runs; the work that grows a table by many rows at once (an
import, a campaign's admission) should not leave its own next statements to wait for that.

So that work analyses the table once it has added ``FIRST_ROWS`` rows, then each time it has
doubled what it added: a few times per run (about 20 at ten billion rows), each a bounded
sample. The statement itself is the package's (``refresh_statistics`` in its repository).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

# Rows added before the first ANALYZE.
FIRST_ROWS = 20_000


class GrowthAnalyser:
    """Counts the rows a run adds to a table and calls ``analyse`` at FIRST_ROWS, twice that,
    four times that, and so on."""

    def __init__(self, analyse: Callable[[], Awaitable[None]], first: int = FIRST_ROWS) -> None:
        self._analyse = analyse
        self.added = 0
        self.next_at = first

    async def grew(self, rows: int) -> None:
        self.added += rows
        if self.added >= self.next_at:
            await self._analyse()
            self.next_at = 2 * self.added
