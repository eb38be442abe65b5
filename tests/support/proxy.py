"""A TCP proxy a test controls, to take the database away from a server and give it back.

It runs its own event loop in a thread, so it keeps forwarding whatever the test's own loop
is doing. ``cut()`` breaks every connection through it (the peers see a reset) and from then
on swallows new ones: they are accepted and never answered, like a network that drops
packets, so a client learns of the outage only from its own timeouts. ``restore()`` ends the
swallowed connections and forwards again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

CHUNK_BYTES = 64 * 1024
CONTROL_TIMEOUT_SECONDS = 10.0


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream``; ``cut()`` and ``restore()`` it."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.accepted = 0
        self._cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy")
        self._server: asyncio.Server | None = None

    # ------------------------------------------------------------ control, from any thread

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        """Break every open connection; accept new ones but never answer them."""
        self._call(self._set_cut(True))

    def restore(self) -> None:
        """Close the swallowed connections and forward new ones again."""
        self._call(self._set_cut(False))

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._shutdown())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CONTROL_TIMEOUT_SECONDS)
        self._loop.close()

    @property
    def is_cut(self) -> bool:
        return self._cut

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(
            CONTROL_TIMEOUT_SECONDS
        )

    # ------------------------------------------------------------ inside the proxy's loop

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_cut(self, cut: bool) -> None:
        self._cut = cut
        # A cut resets the forwarded connections; a restore ends the swallowed ones.
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._set_cut(True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        try:
            if self._cut:
                await _swallow(reader)
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            if self._cut:  # cut while connecting upstream
                _reset(up_writer)
                return
            self._writers.add(up_writer)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                _reset(up_writer)
        finally:
            self._writers.discard(writer)
            _reset(writer)


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await source.read(CHUNK_BYTES):
            target.write(chunk)
            await target.drain()
    _reset(target)


async def _swallow(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(OSError):
        while await reader.read(CHUNK_BYTES):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close at once with a reset (SO_LINGER 0), as a broken network path would look."""
    transport = writer.transport
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@contextmanager
def tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(upstream_host, upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
