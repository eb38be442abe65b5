"""Counting CSV records in a byte stream without parsing it, for progress and totals."""

from __future__ import annotations


class RecordCounter:
    """Counts the records of CSV text fed to it in chunks of any size.

    A line break ends a record unless it is inside a quoted cell; quotes toggle that state
    (an escaped ``""`` toggles it twice), so the count stays right across chunk borders.
    """

    def __init__(self) -> None:
        self.records = 0
        self._quoted = False
        self._open_record = False

    def feed(self, chunk: bytes) -> int:
        """Count the records ``chunk`` ends; returns how many."""
        ended = 0
        for index, part in enumerate(chunk.split(b'"')):
            if index:
                self._quoted = not self._quoted
            if not self._quoted:
                ended += part.count(b"\n")
        if chunk:
            self._open_record = not chunk.endswith(b"\n") or self._quoted
        self.records += ended
        return ended

    def total(self) -> int:
        """Records seen so far, including a last one with no line break after it."""
        return self.records + (1 if self._open_record else 0)
