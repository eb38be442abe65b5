"""The flood filter: a few lines of a kind per interval, then one summary line for the rest."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from contactlists.server import logflood
from contactlists.server.logflood import FloodFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flood(clock: Clock) -> Iterator[FloodFilter]:
    filter_ = FloodFilter(burst=3, interval=60.0, clock=clock)
    remove = logflood.install(filter_, ["test.flood.a", "test.flood.b"])
    try:
        yield filter_
    finally:
        remove()


@pytest.fixture
def collect() -> Iterator[Collect]:
    handler = Collect()
    loggers = [logging.getLogger(name) for name in ("test.flood.a", "test.flood.b")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.propagate = True
            logger.setLevel(logging.NOTSET)


def test_a_burst_passes_then_one_summary_per_interval(
    flood: FloodFilter, collect: Collect, clock: Clock
) -> None:
    log = logging.getLogger("test.flood.a")
    for fd in range(1000):
        log.error("socket.accept() out of system resource\nsocket: <fd=%d>", fd)
    assert len(collect.records) == 3

    clock.now += 59
    flood.flush()
    assert len(collect.records) == 3  # the interval is not over

    clock.now += 1
    flood.flush()
    assert len(collect.records) == 4
    summary = collect.records[-1]
    assert summary.levelno == logging.ERROR
    assert summary.name == "test.flood.a"
    assert summary.getMessage() == (
        "997 similar lines suppressed in the last 60 s: socket.accept() out of system resource"
    )

    flood.flush()  # said once
    assert len(collect.records) == 4
    log.error("socket.accept() out of system resource\nsocket: <fd=%d>", 7)
    assert len(collect.records) == 5  # a new interval: lines pass again


def test_the_next_line_after_the_interval_writes_the_summary_first(
    flood: FloodFilter, collect: Collect, clock: Clock
) -> None:
    log = logging.getLogger("test.flood.a")
    for _ in range(5):
        log.warning("Invalid HTTP request received.")
    clock.now += 61
    log.warning("Invalid HTTP request received.")
    assert collect.messages == [
        "Invalid HTTP request received.",
        "Invalid HTTP request received.",
        "Invalid HTTP request received.",
        "2 similar lines suppressed in the last 61 s: Invalid HTTP request received.",
        "Invalid HTTP request received.",
    ]


def test_numbers_and_addresses_do_not_make_a_new_kind(flood: FloodFilter, collect: Collect) -> None:
    log = logging.getLogger("test.flood.a")
    for address in range(0x7F6533E28000, 0x7F6533E28000 + 50):
        # asyncio writes the whole message, addresses included, as the template.
        log.error(f"Exception in callback _start_serving(<function at {address:#x}>, 14)")
    assert len(collect.records) == 3


def test_kinds_are_counted_apart(flood: FloodFilter, collect: Collect) -> None:
    a, b = logging.getLogger("test.flood.a"), logging.getLogger("test.flood.b")
    for _ in range(10):
        a.warning("one kind")
        a.warning("another kind")
        a.error("one kind")  # another level
        b.warning("one kind")  # another logger
        try:
            raise ConnectionResetError
        except ConnectionResetError:
            a.exception("one kind")  # another exception
    assert len(collect.records) == 5 * 3


def test_stopping_writes_every_summary(flood: FloodFilter, collect: Collect) -> None:
    log = logging.getLogger("test.flood.b")
    for _ in range(10):
        log.info("closed a connection from %s", "127.0.0.1:1")
    flood.flush(everything=True)
    assert collect.messages[-1] == (
        "7 similar lines suppressed in the last 0 s: closed a connection from …"
    )


def test_kinds_in_memory_are_bounded(flood: FloodFilter, collect: Collect) -> None:
    log = logging.getLogger("test.flood.a")
    for word in range(5 * logflood.MAX_KINDS):
        log.warning("kind %s", word)  # one kind: the template is the same
        log.warning(f"kind {chr(0x4E00 + word)}")  # a new kind each time
    # The kinds, and one window shared by the rest (per logger and level).
    assert len(flood._windows) <= logflood.MAX_KINDS + 1
    # Past the bound, new kinds share one window: the log stays bounded too.
    assert len(collect.records) <= 3 + logflood.MAX_KINDS + 3
