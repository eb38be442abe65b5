"""Real ``contactlists serve`` processes for end-to-end tests, always cleaned up."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServeProcess:
    """A running ``serve`` with its combined stdout and stderr collected line by line."""

    process: subprocess.Popen[str]
    base_url: str
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def start_reading(self) -> None:
        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_until_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Poll ``/healthz`` until it answers 200, the process dies, or the deadline passes."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self._join_reader()
                    raise AssertionError(
                        f"serve exited with {self.process.returncode}:\n{self.output}"
                    )
                try:
                    healthy = http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    healthy = False
                # The banner precedes the server start; wait until the reader has it too.
                if healthy and any(line.startswith("serving on") for line in self.lines):
                    return
                time.sleep(0.1)
        raise AssertionError(f"serve was not ready after {timeout} s:\n{self.output}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._join_reader()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def running_serve(
    extra_args: Sequence[str] = (),
    *,
    cwd: Path | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[ServeProcess]:
    """``python -m contactlists serve`` on a free port, ready; terminated on the way out.

    ``settings``: CONTACTLISTS_* variables for it (none of the test run's own are passed on).
    """
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONTACTLISTS_")}
    env["PYTHONUNBUFFERED"] = "1"
    # One process unless a test asks for more: PostgreSQL's default is one per core, and the
    # tests of one process's bounds (connection cap, timeouts) must reach that process.
    env["CONTACTLISTS_PROCESSES"] = "1"
    env.update(settings or {})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactlists",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra_args,
        ],
        cwd=cwd,
        env=env,
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


@dataclass(frozen=True)
class CurlRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


def parse_curl(output: str) -> CurlRequest:
    """The ``curl`` example in ``output``: its continuation lines joined, then split as a shell."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    command_lines = [lines[start]]
    while command_lines[-1].rstrip().endswith("\\"):
        command_lines.append(lines[start + len(command_lines)])
    words = shlex.split("\n".join(command_lines).replace("\\\n", " "))
    assert words[0] == "curl", words
    method, url, body = "GET", None, None
    headers: dict[str, str] = {}
    index = 1
    while index < len(words):
        word = words[index]
        if word == "-X":
            method = words[index + 1]
            index += 2
        elif word == "-H":
            name, _, value = words[index + 1].partition(":")
            headers[name.strip()] = value.strip()
            index += 2
        elif word in ("-d", "--data", "--data-raw"):
            body = words[index + 1]
            method = method if "-X" in words else "POST"
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            assert url is None, f"two URLs in {words}"
            url = word
            index += 1
    assert url is not None, words
    return CurlRequest(method=method, url=url, headers=headers, body=body)
