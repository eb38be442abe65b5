"""``contactlists serve`` and ``contactlists worker`` as real processes, with chosen settings.

Each process gets its own session (process group), so the helpers it spawns (the phone
normalising processes) are found and ended with it, even after it was killed with SIGKILL.
Output goes to a log file, which the failure messages show.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass
class Process:
    """A ``contactlists`` command in its own process group, its output in ``log_path``."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_output(self, text: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Wait until ``text`` appears in the output; fail if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.output}"
                )
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not print {text!r} in {timeout} s:\n{self.output}")

    def wait_until_healthy(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise AssertionError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.output}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        return
                time.sleep(0.05)
        raise AssertionError(f"{self.name} was not healthy after {timeout} s:\n{self.output}")

    def kill(self) -> None:
        """SIGKILL the command itself (not its helpers), as a crash would, and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; then end whatever is left of its group."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        # The group is the command's own (start_new_session): only its helpers can remain.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def helpers_alive(self) -> bool:
        """Whether any process of the command's group is still there."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


def service_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The environment without the caller's CONTACTLISTS_* settings, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONTACTLISTS_")}
    env["PYTHONUNBUFFERED"] = "1"
    # One API process unless ``settings`` asks for more (PostgreSQL's default is one per
    # core): the tests of a process's bounds and of its stop must reach that process.
    env["CONTACTLISTS_PROCESSES"] = "1"
    env.update(settings)
    return env


def spawn(name: str, args: Sequence[str], log_path: Path, settings: Mapping[str, str]) -> Process:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "contactlists", *args],
            env=service_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name=name, process=process, log_path=log_path)


def start_serve(
    database_url: str, log_path: Path, settings: Mapping[str, str] | None = None
) -> Process:
    """``contactlists serve`` on a free port, healthy. The caller must ``stop()`` it."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--database-url", database_url]
    server = spawn("serve", args, log_path, settings or {})
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until_healthy()
    except BaseException:
        server.stop()
        raise
    return server


def start_worker(
    database_url: str,
    log_path: Path,
    settings: Mapping[str, str] | None = None,
    *,
    count: int | None = None,
) -> Process:
    """``contactlists worker``, running (its start line printed). The caller must ``stop()`` it."""
    args = ["worker", "--database-url", database_url]
    if count is not None:
        args += ["--count", str(count)]
    worker = spawn("worker", args, log_path, settings or {})
    try:
        worker.wait_for_output("job worker")
    except BaseException:
        worker.stop()
        raise
    return worker


class Processes:
    """Every process a test started, all stopped when the test ends (see the fixture)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def _log(self, name: str) -> Path:
        return self.directory / f"{len(self.started):02d}-{name}.log"

    def serve(self, database_url: str, settings: Mapping[str, str] | None = None) -> Process:
        server = start_serve(database_url, self._log("serve"), settings)
        self.started.append(server)
        return server

    def worker(
        self,
        database_url: str,
        settings: Mapping[str, str] | None = None,
        *,
        count: int | None = None,
    ) -> Process:
        worker = start_worker(database_url, self._log("worker"), settings, count=count)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def outputs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.pid})\n{p.output}" for p in self.started)


@contextmanager
def processes(directory: Path) -> Iterator[Processes]:
    started = Processes(directory)
    try:
        yield started
    finally:
        started.stop_all()
