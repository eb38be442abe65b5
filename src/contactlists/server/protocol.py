"""uvicorn's h11 protocol with a header timeout and a cap on open connections.

uvicorn closes a connection idle after a response (``timeout_keep_alive``), but nothing
bounds the wait for a request's headers: a connection that sends nothing, or half a request
line, is held for ever, and 20,000 of them used up the process's file descriptors.
:class:`BoundedH11Protocol` adds two things:

- **header timeout**: a connection is closed when its request headers are not complete
  ``header_timeout`` seconds after it opened, or, on a reused connection, after the first byte
  of its next request (until that byte, the keep-alive timeout applies). The timer is one
  ``call_later`` per connection, cancelled as soon as h11 has parsed the headers. The same
  timer bounds the rest of a request the server has already answered: after a 401 or a 413 the
  body is not read, and uvicorn would otherwise keep the connection for as long as the client
  trickles it (each byte stops the keep-alive timer). A body the app is reading is not timed
  here: the app reads bodies only for callers that passed authentication.
- **connection cap**: past ``max_connections`` open connections, a new one is answered a
  503 envelope (``Retry-After: 1``) and closed at once, before anything of it is read or
  parsed, and without a task or a timer. uvicorn's own ``limit_concurrency`` is not used: it
  answers 503 only once a connection has sent complete headers, so a connection that never
  does (the attack this stops) is accepted and held all the same, and it counts running
  tasks, not descriptors. Refusing at once keeps the number of descriptors bounded whatever
  clients send. The 503 is written before the close as a courtesy to a client whose request
  is already on its way (load balancers and the SDK retry it); a client whose request arrives
  after the close sees a reset instead. Either way it learns at once, and the refused socket
  costs the server a descriptor for one turn of the event loop only.

Both events are counted in ``/metrics`` (``contactlists_connections_closed_total``) and
logged through the ``contactlists.server`` logger, whose lines :mod:`.logflood` bounds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

import h11
from prometheus_client import CollectorRegistry, Counter, Gauge
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from contactlists.errors import ServiceUnavailable
from contactlists.observability.metrics import multiprocess_dir
from contactlists.server.limits import ConnectionBounds

log = logging.getLogger("contactlists.server")

HEADER_TIMEOUT = "header_timeout"
OVER_LIMIT = "over_limit"
OVER_LIMIT_MESSAGE = "The server has too many open connections; try again shortly."


def _over_limit_response() -> bytes:
    envelope = ServiceUnavailable(OVER_LIMIT_MESSAGE).envelope()
    body = json.dumps(
        envelope.model_dump(mode="json", exclude_none=True),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 1\r\n"
        "connection: close\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


OVER_LIMIT_RESPONSE = _over_limit_response()


class ConnectionEvents:
    """What the protocol reports: closed connections by reason, and the open ones."""

    def __init__(self, bounds: ConnectionBounds, registry: CollectorRegistry | None) -> None:
        self.bounds = bounds
        self.closed: Counter | None = None
        self.open: Gauge | None = None
        if registry is not None:
            self.closed = Counter(
                "contactlists_connections_closed",
                "Connections the server closed to protect itself, by reason: header_timeout "
                "(no complete request headers in time), over_limit (refused past the cap).",
                ("reason",),
                registry=registry,
            )
            for reason in (HEADER_TIMEOUT, OVER_LIMIT):
                self.closed.labels(reason)
            self.open = Gauge(
                "contactlists_connections_open",
                "HTTP connections open now (at most CONTACTLISTS_MAX_CONNECTIONS per process).",
                registry=registry,
                # Several processes (serve --processes): the sum over the live ones.
                multiprocess_mode="livesum",
            )
        self._connections: Any = None

    def watch(self, server_state: ServerState) -> None:
        if self.open is None:
            return
        connections = server_state.connections
        if multiprocess_dir():
            # A function is not shared between processes: :meth:`sample` writes the figure.
            self._connections = connections
        else:
            self.open.set_function(lambda: len(connections))

    def sample(self) -> None:
        """Write the number of open connections (several processes; ``serve`` calls it often)."""
        if self.open is not None and self._connections is not None:
            self.open.set(len(self._connections))

    def header_timeout(self, client: tuple[str, int] | None, missing: str) -> None:
        if self.closed is not None:
            self.closed.labels(HEADER_TIMEOUT).inc()
        log.info(
            "closed a connection from %s: no complete %s within %g s",
            _address(client),
            missing,
            self.bounds.header_timeout,
        )

    def over_limit(self, client: tuple[str, int] | None) -> None:
        if self.closed is not None:
            self.closed.labels(OVER_LIMIT).inc()
        log.warning(
            "refused a connection from %s: %d connections are open (CONTACTLISTS_MAX_CONNECTIONS)",
            _address(client),
            self.bounds.max_connections,
        )


def _address(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "an unknown address"


class BoundedH11Protocol(H11Protocol):
    """:class:`H11Protocol` with a header timeout and a connection cap (see the module)."""

    bounds: ClassVar[ConnectionBounds]
    events: ClassVar[ConnectionEvents]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # uvicorn's Config takes whole seconds; the setting may be a fraction.
        self.timeout_keep_alive = self.bounds.keepalive_timeout  # type: ignore[assignment]
        self.header_timer: asyncio.TimerHandle | None = None
        self.refused = False

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        if len(self.connections) >= self.bounds.max_connections:
            # Not added to the server's connections, no timer, nothing read: refused at once.
            self.refused = True
            self.transport = transport
            self.events.over_limit(_peer(transport))
            transport.write(OVER_LIMIT_RESPONSE)
            transport.close()
            return
        super().connection_made(transport)
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self.refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        super().data_received(data)
        if self._waiting_on_client():
            # The first byte of a request on a reused connection starts its clock (uvicorn
            # has just stopped the keep-alive timer).
            self._start_header_timer()
        else:
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._waiting_on_client():
            return
        # The rest of a body the app did not read, or a pipelined request still partial, is
        # timed from now; an idle connection is left to the keep-alive timer.
        pending, _closed = self.conn.trailing_data
        if self.conn.their_state is h11.SEND_BODY or pending:
            self._start_header_timer()

    def _waiting_on_client(self) -> bool:
        """Whether the connection waits on the client alone.

        For the headers of its next request, or for the rest of a request that was answered
        already (its body unread).
        """
        if self.transport.is_closing():
            return False
        theirs = self.conn.their_state
        return theirs is h11.IDLE or (theirs is h11.SEND_BODY and self.conn.our_state is h11.DONE)

    def _start_header_timer(self) -> None:
        if self.header_timer is None:
            self.header_timer = self.loop.call_later(
                self.bounds.header_timeout, self._header_timeout
            )

    def _cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _header_timeout(self) -> None:
        self.header_timer = None
        if not self._waiting_on_client():
            return
        answered = self.conn.their_state is h11.SEND_BODY
        self.events.header_timeout(self.client, "request body" if answered else "request headers")
        self._unset_keepalive_if_required()
        self.transport.close()


def _peer(transport: asyncio.BaseTransport) -> tuple[str, int] | None:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return (str(peer[0]), int(peer[1]))
    return None


def protocol_class(bounds: ConnectionBounds, events: ConnectionEvents) -> type[H11Protocol]:
    """A :class:`BoundedH11Protocol` bound to these bounds, for ``uvicorn.Config(http=…)``."""

    class ContactListsH11Protocol(BoundedH11Protocol):
        pass

    ContactListsH11Protocol.bounds = bounds
    ContactListsH11Protocol.events = events
    return ContactListsH11Protocol
