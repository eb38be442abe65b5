"""Slow clients hold sockets, never database connections (a real server on each backend).

An attacker with a read-only token opens 50 requests whose bodies trickle in a byte at a time
and 50 exports it never reads. Before, each held a pooled connection for as long as its client
was silent: 15 on SQLite (20 on PostgreSQL) made every database route of every account answer
503. Here a client of another account keeps its usual latency and ``/readyz`` stays 200.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from contactlists.apps import service as apps
from tests.support.contacts import add_contacts, create_list
from tests.support.durable import OwnDatabase, service_settings
from tests.support.paths import Paths
from tests.support.processes import Process, start_serve
from tests.support.tenants import Tenant

pytestmark = [pytest.mark.anyio, pytest.mark.serial]

TRICKLING = 50
STALLED = 50
# Enough bytes (about 7 MB) that an export cannot fit in the socket buffers of a client that
# never reads (Linux takes about 3 MB on a loopback connection before a send blocks).
EXPORTED_CONTACTS = 20_000
NOTE = "n" * 250
SAMPLES = 20
QUIET_SAMPLE_SECONDS = 0.5
QUIET_CORES = 0.25


def request_head(method: str, path: str, tenant: Tenant, extra: dict[str, str]) -> bytes:
    headers = {"Host": "127.0.0.1", **tenant.headers(), **extra}
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(base_url: str, *, receive_buffer: int | None = None) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((host, int(port)))
    return sock


@contextmanager
def trickling_bodies(server: Process, attacker: Tenant) -> Iterator[None]:
    """Requests that send their headers, then one body byte per second, never finishing."""
    # getAllCampaignDetails: a read-scope route with a JSON body.
    path = f"{Paths('v2', attacker.bot).prefix}/getAllCampaignDetails"
    head = request_head(
        "POST", path, attacker, {"Content-Type": "application/json", "Content-Length": "100000"}
    )
    stop = threading.Event()
    with ExitStack() as stack:
        sockets = []
        for _ in range(TRICKLING):
            sock = stack.enter_context(connect(server.base_url))
            sock.sendall(head + b"{")
            sockets.append(sock)

        def trickle() -> None:
            while not stop.wait(1.0):
                for sock in sockets:
                    # The server may close a connection: that is allowed.
                    with contextlib.suppress(OSError):
                        sock.send(b" ")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


@contextmanager
def stalled_exports(server: Process, attacker: Tenant, list_id: str) -> Iterator[None]:
    """Exports of a large list whose client reads nothing after asking."""
    path = f"{Paths('v2', attacker.bot).list(list_id)}/export"
    head = request_head("GET", path, attacker, {})
    with ExitStack() as stack:
        for _ in range(STALLED):
            sock = stack.enter_context(connect(server.base_url, receive_buffer=4096))
            sock.sendall(head)
        # The server renders each export until its socket takes no more, then waits.
        wait_until_quiet(server.pid)
        yield


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(pid: int, timeout: float = 180.0) -> None:
    """Until the process uses under a quarter of a core for two seconds running.

    Rendering the exports takes a whole core or more; once every socket is full the server only
    keeps its timers, chores and the trickling bytes: a few hundredths of a core on a quiet
    machine, more on a loaded one. The bar sits well between the two.
    """
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    samples: list[float] = []
    used = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(QUIET_SAMPLE_SECONDS)
        now_used = cpu_seconds(pid)
        samples.append((now_used - used) / QUIET_SAMPLE_SECONDS)
        if samples[-1] < QUIET_CORES:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 2.0:
                return
        else:
            quiet_since = None
        used = now_used
    recent = ", ".join(f"{cores:.2f}" for cores in samples[-20:])
    raise AssertionError(f"the server was still busy after {timeout} s (cores used: {recent})")


def latencies(http: httpx.Client, path: str, tenant: Tenant) -> list[float]:
    seconds = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = http.get(path, headers=tenant.headers())
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return seconds


async def seed(own: OwnDatabase) -> tuple[Tenant, Tenant, str, str]:
    attacker = await own.tenants.create()
    bystander = await own.tenants.create()
    big = await create_list(own.client, attacker, "Big")
    items = [
        {"phoneNumber": f"+1202555{n:04d}", "firstName": f"N{n}", "note": NOTE}
        for n in range(10_000)
    ]
    for batch in range(EXPORTED_CONTACTS // len(items)):
        await add_contacts(
            own.client,
            attacker,
            "Big",
            [{**item, "uniqueId": f"{batch}-{i}"} for i, item in enumerate(items)],
        )
    await own.run_jobs()
    mine = await create_list(own.client, bystander, "Mine")
    # The attack needs nothing but a read-only token of its own account.
    reader = await own.tenants.create(
        scopes=(apps.SCOPE_READ,), account_id=attacker.account_id, bots=[attacker.bot]
    )
    return reader, bystander, big["_id"], mine["_id"]


async def test_slow_clients_do_not_starve_other_accounts(own: OwnDatabase, tmp_path: Path) -> None:
    reader, bystander, big_list, own_list = await seed(own)
    settings = service_settings(tmp_path, body_timeout_seconds=600)
    server = start_serve(own.url, tmp_path / "serve.log", settings)
    try:
        with httpx.Client(base_url=server.base_url, timeout=60.0) as http:
            path = Paths("v2", bystander.bot).list(own_list)
            usual = statistics.median(latencies(http, path, bystander))

            with trickling_bodies(server, reader), stalled_exports(server, reader, big_list):
                attacked = latencies(http, path, bystander)
                ready = http.get("/readyz")

            assert ready.status_code == 200, ready.text
            # Twice the usual median, and a few milliseconds for the timer's and the
            # machine's noise at sub-millisecond latencies.
            assert statistics.median(attacked) <= 2 * usual + 0.005, (usual, attacked)
            assert max(attacked) < 1.0, attacked
    finally:
        server.stop()
