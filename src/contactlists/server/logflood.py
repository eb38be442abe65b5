"""A log that cannot flood: at most a few lines of a kind per interval, then one summary.

A broken connection makes asyncio and uvicorn write a line (often with a traceback) per
connection and sometimes per retry: when the process ran out of file descriptors, Python's
accept loop wrote ``socket.accept() out of system resource`` and ``Exception in callback
BaseSelectorEventLoop._start_serving(…)`` thousands of times a second. :class:`FloodFilter`
lets the first ``burst`` lines of each kind through per ``interval`` seconds, drops the rest,
and writes one ``N similar lines suppressed`` line for them when the interval is over.

A line's kind is its logger, its level, the first line of its message template with the
numbers and addresses taken out, and the type of its exception: ``Exception in callback
…0x7f65…`` and ``…0x7f66…`` are one kind, a file descriptor's number does not make a new one.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The loggers whose lines are about connections, not about requests: asyncio's event loop
# (accept failures, transports' errors), uvicorn's server and protocol lines, and ours.
CONNECTION_LOGGERS = ("asyncio", "uvicorn.error", "contactlists.server")
BURST = 10
INTERVAL_SECONDS = 60.0
# Kinds remembered at once; past it, new kinds share one window per logger and level (a
# bounded memory whatever the lines say).
MAX_KINDS = 256
SUMMARY_MARK = "flood_summary"
KIND_LENGTH = 120
_VARIABLE = re.compile(r"0x[0-9a-fA-F]+|\d+")
# A template's placeholders (%s, %d, %.1f…), shown as … in a summary.
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")

Kind = tuple[str, int, str, str]


def kind_of(record: logging.LogRecord) -> Kind:
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    first_line = template.strip().split("\n", 1)[0]
    text = _VARIABLE.sub("#", _PLACEHOLDER.sub("…", first_line))[:KIND_LENGTH]
    exception = ""
    if record.exc_info and record.exc_info[0] is not None:
        exception = record.exc_info[0].__name__
    return (record.name, record.levelno, text, exception)


@dataclass
class _Window:
    started: float
    passed: int = 0
    suppressed: int = 0


class FloodFilter(logging.Filter):
    """Passes at most ``burst`` records of a kind per ``interval`` seconds; summarises the rest.

    The summary of an interval is written by the first record of its kind after it, or by
    :meth:`flush` (``serve`` calls it every second), whichever comes first; it goes to the
    same logger at the same level as the lines it stands for.
    """

    def __init__(
        self,
        burst: int = BURST,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self._windows: dict[Kind, _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, SUMMARY_MARK, False):
            return True
        kind = kind_of(record)
        due: list[tuple[Kind, _Window]] = []
        with self._lock:
            now = self.clock()
            window = self._windows.get(kind)
            if window is not None and now - window.started >= self.interval:
                del self._windows[kind]
                if window.suppressed:
                    due.append((kind, window))
                window = None
            if window is None:
                if len(self._windows) >= MAX_KINDS:
                    due.extend(self._expire(now))
                if len(self._windows) >= MAX_KINDS:
                    kind = (record.name, record.levelno, "(other lines)", "")
                    window = self._windows.get(kind)
                if window is None:
                    window = self._windows[kind] = _Window(started=now)
            if window.passed < self.burst:
                window.passed += 1
                allowed = True
            else:
                window.suppressed += 1
                allowed = False
        self._write_summaries(due, now)
        return allowed

    def flush(self, *, everything: bool = False) -> None:
        """Write the summary of every interval that is over; forget the kinds gone quiet.

        ``everything``: of every interval, over or not (the process is stopping).
        """
        with self._lock:
            now = self.clock()
            due = self._expire(now, everything=everything)
        self._write_summaries(due, now)

    def _expire(self, now: float, *, everything: bool = False) -> list[tuple[Kind, _Window]]:
        ended = [
            (kind, window)
            for kind, window in self._windows.items()
            if everything or now - window.started >= self.interval
        ]
        for kind, _window in ended:
            del self._windows[kind]
        return [(kind, window) for kind, window in ended if window.suppressed]

    def _write_summaries(self, due: Iterable[tuple[Kind, _Window]], now: float) -> None:
        for (name, level, text, exception), window in due:
            about = f"{text} ({exception})" if exception else text
            logging.getLogger(name).log(
                level,
                "%d similar lines suppressed in the last %.0f s: %s",
                window.suppressed,
                now - window.started,
                about,
                extra={SUMMARY_MARK: True},
            )


def install(
    filter_: FloodFilter, loggers: Iterable[str] = CONNECTION_LOGGERS
) -> Callable[[], None]:
    """Put ``filter_`` on ``loggers``; returns a function that takes it off again."""
    targets = [logging.getLogger(name) for name in loggers]
    for target in targets:
        target.addFilter(filter_)

    def remove() -> None:
        for target in targets:
            target.removeFilter(filter_)

    return remove
