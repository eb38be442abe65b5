"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1, in a thread.

It answers each POST with the next status of its script (200 once the script is spent) and
keeps what it was sent, so a test can check each request's body and signature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    # What the test's probe saw while the request was in flight (the pool's checked-out
    # connections, say).
    probed: object = None


@dataclass
class Receiver:
    url: str
    script: list[int]
    probe: Callable[[], object] | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def keep(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)


@contextmanager
def receiver(
    statuses: Sequence[int] = (),
    path: str = "/hook",
    probe: Callable[[], object] | None = None,
) -> Iterator[Receiver]:
    state = Receiver(url="", script=list(statuses), probe=probe)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = state.next_status()
            probed = state.probe() if state.probe else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            # Kept before answering: once the sender sees the answer, the test sees the request.
            state.keep(Received(headers, body, status, probed))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
