"""Raw sockets against a real ``contactlists serve``: half-open connections and their fate."""

from __future__ import annotations

import json
import re
import resource
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.processes import service_env
from tests.support.servers import ServeProcess, free_port, running_serve

# Less noise, fewer processes on a small machine: no job workers, phones parsed in a thread.
QUIET_SETTINGS = {
    "CONTACTLISTS_LOG_FORMAT": "json",
    "CONTACTLISTS_WORKERS": "0",
    "CONTACTLISTS_NORMALISE_PROCESSES": "0",
}


# `python -m contactlists …` with its open-file limit (soft and hard) set first.
WITH_OPEN_FILE_LIMIT = """
import resource, runpy, sys
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
runpy.run_module("contactlists", run_name="__main__", alter_sys=True)
"""


@contextmanager
def serve(directory: Path, settings: Mapping[str, str]) -> Iterator[ServeProcess]:
    """``contactlists serve`` on a new SQLite file in ``directory``, with ``settings``."""
    database_url = f"sqlite:///{directory / 'contactlists.db'}"
    with running_serve(
        ["--database-url", database_url], settings={**QUIET_SETTINGS, **settings}
    ) as server:
        yield server


@contextmanager
def serve_with_open_file_limit(
    directory: Path, settings: Mapping[str, str], open_file_limit: int
) -> Iterator[ServeProcess]:
    """:func:`serve`, in a process that may open ``open_file_limit`` files, and no more."""
    port = free_port()
    database_url = f"sqlite:///{directory / 'contactlists.db'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WITH_OPEN_FILE_LIMIT,
            str(open_file_limit),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        env=service_env({**QUIET_SETTINGS, **settings}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = ServeProcess(process=process, base_url=f"http://127.0.0.1:{port}")
    try:
        server.start_reading()
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def port_of(server: ServeProcess) -> int:
    port = urlsplit(server.base_url).port
    assert port is not None
    return port


def ensure_open_files(needed: int) -> None:
    """Raise this process's soft open-file limit to ``needed`` (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@dataclass
class Connection:
    """One client socket, when it was opened, and when and how the server ended it."""

    sock: socket.socket
    opened_at: float
    closed_at: float | None = None
    received: bytes = b""

    @property
    def lifetime(self) -> float:
        assert self.closed_at is not None
        return self.closed_at - self.opened_at


def open_connections(port: int, count: int, payloads: list[bytes]) -> list[Connection]:
    """``count`` connections, the i-th sending ``payloads[i % len(payloads)]`` and no more."""
    opened: list[Connection] = []
    try:
        for index in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            opened.append(Connection(sock=sock, opened_at=time.monotonic()))
            payload = payloads[index % len(payloads)]
            if payload:
                sock.sendall(payload)
    except BaseException:
        close_all(opened)
        raise
    return opened


def wait_until_closed(connections: list[Connection], timeout: float) -> list[Connection]:
    """Read every connection until the server closes it or ``timeout`` passes; the open ones."""
    open_ones = {c.sock.fileno(): c for c in connections if c.closed_at is None}
    with selectors.DefaultSelector() as selector:
        for connection in open_ones.values():
            connection.sock.setblocking(False)
            selector.register(connection.sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while open_ones and time.monotonic() < deadline:
            for key, _events in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                connection = open_ones[key.fd]
                try:
                    data = connection.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # a reset: closed too
                    data = b""
                if data:
                    connection.received += data
                    continue
                connection.closed_at = time.monotonic()
                selector.unregister(connection.sock)
                del open_ones[key.fd]
    return list(open_ones.values())


def close_all(connections: list[Connection]) -> None:
    for connection in connections:
        connection.sock.close()


def request(path: str = "/healthz", *, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, bytes]:
    """One response on ``sock`` (blocking): its status and body (by Content-Length)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert length, head
    while len(body) < int(length.group(1)):
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of a body"
        body += chunk
    return status, body


def closed_within(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the server closes ``sock`` (reading and dropping data), or None."""
    started = time.monotonic()
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


@dataclass
class LogWindow:
    """The lines a server writes from now on."""

    server: ServeProcess
    start: int = field(init=False)

    def __post_init__(self) -> None:
        self.start = len(self.server.lines)

    def lines(self) -> list[str]:
        return self.server.lines[self.start :]

    def records(self) -> list[dict[str, Any]]:
        """The JSON lines among them, parsed."""
        found = []
        for line in self.lines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found


def metric_value(base_url: str, name: str, labels: Mapping[str, str]) -> float | None:
    """One sample of ``/metrics``, or None when the series is not there."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return None


def healthz(base_url: str, timeout: float = 10) -> httpx.Response:
    # A new connection each time, as a probe would.
    return httpx.get(f"{base_url}/healthz", timeout=timeout)
