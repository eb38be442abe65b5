"""uvicorn's HTTP/1.1 protocol with a header timeout and a cap on open connections."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("contactlists.server")


class BoundedH11Protocol(H11Protocol):
    """A connection must finish each request's headers within ``header_timeout`` seconds.

    The timer runs from the connection's start, and again from the first byte of each next
    request on a kept-alive connection, until the request's headers are complete; then it is
    the body's read limit that applies (``CONTACTLISTS_BODY_TIMEOUT_SECONDS``). A connection
    that has not finished its headers in time is closed without an answer: it has not asked
    anything yet. Beyond ``max_connections`` open connections, a new one is closed at once,
    before it can hold a file descriptor for long or reach the app.

    The settings are class attributes, set on a subclass made by :func:`bounded_protocol`,
    because uvicorn makes one protocol object per connection from a class it is given.
    """

    header_timeout: ClassVar[float] = 10.0
    max_connections: ClassVar[int] = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            # Refused before it is counted among the connections, so it costs nothing more.
            refused_connection(self.max_connections)
            self._refused = True
            transport.abort()
            return
        super().connection_made(transport)
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:
            # Between requests, or part of a request's headers: the clock runs.
            self._start_header_timer()
        else:
            self._stop_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        if not self._refused:
            super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_late(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def refused_connection(cap: int) -> None:
    # The flood guard on this logger keeps a storm of refusals to a few lines.
    log.warning("refused a connection: %d are open, the most this process serves", cap)


def bounded_protocol(header_timeout: float, max_connections: int) -> type[BoundedH11Protocol]:
    """The protocol class for uvicorn, with these bounds."""
    return type(
        "ContactListsH11Protocol",
        (BoundedH11Protocol,),
        {"header_timeout": header_timeout, "max_connections": max_connections},
    )
