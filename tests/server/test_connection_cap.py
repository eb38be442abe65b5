"""Past CONTACTLISTS_MAX_CONNECTIONS a new connection is refused at once (real serve)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contactlists.server import limits
from tests.server.support import (
    Connection,
    LogWindow,
    close_all,
    healthz,
    metric_value,
    open_connections,
    port_of,
    serve,
    serve_with_open_file_limit,
    wait_until_closed,
)
from tests.support.servers import ServeProcess

pytestmark = pytest.mark.serial

CAP = 50
OPENED = 4 * CAP
# Long: here only the cap may close a connection.
HEADER_TIMEOUT = 60.0
SETTLE_SECONDS = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    settings = {
        "CONTACTLISTS_MAX_CONNECTIONS": str(CAP),
        "CONTACTLISTS_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
    }
    with serve(tmp_path_factory.mktemp("connection-cap"), settings) as running:
        yield running


def wait_until_served(server: ServeProcess, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if healthz(server.base_url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "not served after the connections closed"
        time.sleep(0.1)


def assert_over_limit_answer(received: bytes) -> None:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), received
    assert b"\r\nretry-after: 1" in head.lower()
    envelope = json.loads(body)
    assert envelope["status"] == "failure"
    assert envelope["errors"][0]["reason"] == "service_unavailable"


def test_connections_past_the_cap_are_refused_and_the_server_recovers(
    server: ServeProcess,
) -> None:
    log = LogWindow(server)
    refused_before = metric_value(
        server.base_url, "contactlists_connections_closed_total", {"reason": "over_limit"}
    )
    assert refused_before is not None
    held: list[Connection] = []
    connections = open_connections(port_of(server), OPENED, [b""])
    try:
        held = wait_until_closed(connections, timeout=SETTLE_SECONDS)
        refused = [c for c in connections if c.closed_at is not None]
        # The cap holds, and nothing under it is closed early.
        assert CAP - 5 <= len(held) <= CAP, f"{len(held)} connections held open"
        for connection in refused:
            assert connection.lifetime < SETTLE_SECONDS
            if connection.received:  # else the client saw a reset first
                assert_over_limit_answer(connection.received)
        assert any(c.received for c in refused)

        assert server.process.poll() is None
        # While the cap is reached a probe is told at once, not left hanging.
        started = time.monotonic()
        try:
            probe = healthz(server.base_url, timeout=5)
        except httpx.TransportError:
            pass
        else:
            assert probe.status_code == 503, probe.text
            assert probe.headers["retry-after"] == "1"
            assert probe.json()["errors"][0]["reason"] == "service_unavailable"
        assert time.monotonic() - started < 2
    finally:
        close_all(connections)

    # Once the clients close theirs, new ones are served.
    wait_until_served(server)

    refused_after = metric_value(
        server.base_url, "contactlists_connections_closed_total", {"reason": "over_limit"}
    )
    assert refused_after is not None
    assert refused_after - refused_before >= OPENED - CAP
    open_now = metric_value(server.base_url, "contactlists_connections_open", {})
    assert open_now is not None
    assert open_now <= 2  # the /metrics request itself

    time.sleep(0.5)
    refusals = [r for r in log.records() if r["message"].startswith("refused a connection")]
    assert 1 <= len(refusals) <= 10
    assert len(log.lines()) < 50


OPEN_FILE_LIMIT = 600


def test_the_default_cap_keeps_the_process_from_running_out_of_descriptors(
    tmp_path: Path,
) -> None:
    # The red team's attack, scaled down: more half-open connections than the process may
    # open files, held longer than it takes to open them. Before, the accept loop hit EMFILE
    # and wrote thousands of ERROR lines a second while /healthz hung.
    fitted = limits.plan(
        header_timeout=HEADER_TIMEOUT,
        keepalive_timeout=5,
        max_connections=0,
        open_file_limit=OPEN_FILE_LIMIT,
    ).max_connections
    settings = {"CONTACTLISTS_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)}
    with serve_with_open_file_limit(tmp_path, settings, OPEN_FILE_LIMIT) as server:
        log = LogWindow(server)
        connections = open_connections(port_of(server), 2 * OPEN_FILE_LIMIT, [b"", b"GET / HTT"])
        try:
            held = wait_until_closed(connections, timeout=SETTLE_SECONDS)
            assert fitted - 5 <= len(held) <= fitted
            assert server.process.poll() is None
        finally:
            close_all(connections)
        wait_until_served(server)

        time.sleep(0.5)
        lines = log.lines()
        assert not [line for line in lines if "out of system resource" in line], lines[:20]
        assert not [r for r in log.records() if r["level"] == "ERROR"], lines[:20]
        assert len(lines) < 50, lines[:60]
