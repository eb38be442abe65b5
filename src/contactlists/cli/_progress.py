"""Progress of imports, exports and uploads on stderr.

On a terminal it is a rich bar (done / total, rate, time left). Elsewhere (a log file, a CI
job, a test) a bar cannot redraw itself, so a plain line is printed when the count first
moves, then every few seconds, and once at the end::

    imported 40,000/100,000 rows (12,345 rows/s, ETA 5 s)
    imported 100,000 rows in 8.1 s (12,345 rows/s)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

LINE_INTERVAL_SECONDS = 2.0


def amount(value: float, unit: str) -> str:
    if unit == "bytes":
        return decimal(int(value))
    return f"{value:,.0f}"


def rate(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{decimal(int(value))}/s"
    return f"{value:,.0f} {unit}/s"


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class CountColumn(ProgressColumn):
    """``40,000/100,000 rows``, or ``40,000 rows`` while the total is unknown."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        done = amount(task.completed, self.unit)
        suffix = "" if self.unit == "bytes" else f" {self.unit}"
        if task.total is None:
            return Text(f"{done}{suffix}")
        return Text(f"{done}/{amount(task.total, self.unit)}{suffix}")


class RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else rate(speed, self.unit))


class Meter:
    """Shows how far ``verb`` (``imported``, ``exported``…) has got; off when ``enabled`` is false.

    Call :meth:`update` with the running count (and the total when it becomes known), and
    :meth:`finish` with the final count.
    """

    def __init__(
        self,
        console: Console,
        verb: str,
        *,
        unit: str = "rows",
        total: int | None = None,
        enabled: bool = True,
        interval: float = LINE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.verb = verb
        self.unit = unit
        self.total = total
        self.enabled = enabled
        self.interval = interval
        self.clock = clock
        self.done = 0
        self.started = clock()
        self._last_line = self.started
        self._lines_shown = False
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def as_bar(self) -> bool:
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def __enter__(self) -> Meter:
        self.started = self._last_line = self.clock()
        if self.enabled and self.as_bar:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                CountColumn(self.unit),
                RateColumn(self.unit),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.verb, total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=self.total)
            return
        now = self.clock()
        if self.total is not None and done >= self.total:
            return  # finish() says it
        first = done > 0 and not self._lines_shown
        if first or now - self._last_line >= self.interval:
            self._last_line = now
            self._lines_shown = True
            self.console.print(Text(self.line(now)), soft_wrap=True)

    def finish(self, done: int | None = None) -> None:
        """The final count: the bar is filled, or the summary line printed."""
        if done is not None:
            self.done = done
        if not self.enabled:
            return
        if self._progress is not None and self._task is not None:
            total = max(self.total or 0, self.done)
            self._progress.update(self._task, completed=self.done, total=total)
            return
        elapsed = self.clock() - self.started
        speed = self.done / elapsed if elapsed > 0 else 0.0
        message = (
            f"{self.verb} {amount(self.done, self.unit)}{self._unit_suffix()} in "
            f"{duration(elapsed)} ({rate(speed, self.unit)})"
        )
        self.console.print(Text(message), soft_wrap=True)

    def _unit_suffix(self) -> str:
        if self.unit == "bytes":
            return ""
        # "1 row", "2 rows" (units are given in the plural).
        return f" {self.unit.removesuffix('s')}" if self.done == 1 else f" {self.unit}"

    def line(self, now: float) -> str:
        """A progress line: count, total, rate and time left where they are known."""
        count = amount(self.done, self.unit)
        if self.total is not None:
            count += f"/{amount(self.total, self.unit)}"
        elapsed = now - self.started
        details: list[str] = []
        if self.done > 0 and elapsed > 0:
            speed = self.done / elapsed
            details.append(rate(speed, self.unit))
            if self.total is not None and self.total >= self.done:
                details.append(f"ETA {duration((self.total - self.done) / speed)}")
        shown = f" ({', '.join(details)})" if details else ""
        return f"{self.verb} {count}{self._unit_suffix()}{shown}"
