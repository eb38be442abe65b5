"""A connection that does not send complete request headers in time is closed (real serve).

The red team's finding: half-open connections were never closed; 20,000 of them used up the
file descriptors, ``/healthz`` timed out and the log grew by 122 MB in 21 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.server.support import (
    LogWindow,
    close_all,
    closed_within,
    ensure_open_files,
    healthz,
    metric_value,
    open_connections,
    port_of,
    read_response,
    request,
    serve,
    wait_until_closed,
)
from tests.support.servers import ServeProcess

pytestmark = pytest.mark.serial

HEADER_TIMEOUT = 1.0
KEEPALIVE_TIMEOUT = 3.0
HALF_OPEN = 2000
# Nothing, or the start of a request whose headers never end.
PARTIAL_REQUESTS = [
    b"",
    b"G",
    b"GET /healthz HTTP/1.1\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: test\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n",
]
# Scheduling on a loaded two-core machine.
SLACK = 2.0
MAX_NEW_LOG_LINES = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    ensure_open_files(HALF_OPEN * 2 + 1024)  # ours, and the server's (it inherits the limit)
    settings = {
        "CONTACTLISTS_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CONTACTLISTS_KEEPALIVE_TIMEOUT_SECONDS": str(KEEPALIVE_TIMEOUT),
    }
    with serve(tmp_path_factory.mktemp("header-timeout"), settings) as running:
        yield running


def test_half_open_connections_are_closed_after_the_header_timeout(
    server: ServeProcess,
) -> None:
    log = LogWindow(server)
    closed_before = metric_value(
        server.base_url, "contactlists_connections_closed_total", {"reason": "header_timeout"}
    )
    connections = open_connections(port_of(server), HALF_OPEN, PARTIAL_REQUESTS)
    try:
        still_open = wait_until_closed(connections, timeout=HEADER_TIMEOUT + 10 * SLACK)
        assert not still_open, f"{len(still_open)} of {HALF_OPEN} connections were never closed"
        lifetimes = sorted(c.lifetime for c in connections)
        # Closed by the timeout: not before it (as a refusal would be), and not long after.
        assert lifetimes[0] >= HEADER_TIMEOUT * 0.8, lifetimes[:5]
        assert lifetimes[-1] <= HEADER_TIMEOUT + 4 * SLACK, lifetimes[-5:]
        assert all(c.received == b"" for c in connections), "closed without an answer"
    finally:
        close_all(connections)

    assert server.process.poll() is None
    assert healthz(server.base_url).status_code == 200
    closed_after = metric_value(
        server.base_url, "contactlists_connections_closed_total", {"reason": "header_timeout"}
    )
    assert closed_before is not None
    assert closed_after is not None
    assert closed_after - closed_before == HALF_OPEN

    time.sleep(0.5)  # the reader thread catches up with the server's output
    new_lines = log.lines()
    assert len(new_lines) < MAX_NEW_LOG_LINES, "\n".join(new_lines[:60])
    records = log.records()
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")], new_lines
    timeouts = [r for r in records if "no complete request headers" in r["message"]]
    assert 1 <= len(timeouts) <= 10


def test_headers_dripped_a_byte_at_a_time_are_cut_off(server: ServeProcess) -> None:
    [connection] = open_connections(port_of(server), 1, [b""])
    sock = connection.sock
    headers = request(extra="X-Padding: " + "a" * 100 + "\r\n")
    try:
        for byte in headers[:-1]:  # never the last byte: the headers never complete
            time.sleep(0.05)
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            if time.monotonic() - connection.opened_at > HEADER_TIMEOUT + SLACK:
                break
        waited = closed_within(sock, timeout=SLACK)
        assert waited is not None, "still open while the client kept sending header bytes"
        lifetime = time.monotonic() - connection.opened_at
        assert HEADER_TIMEOUT * 0.8 <= lifetime <= HEADER_TIMEOUT + 2 * SLACK
    finally:
        sock.close()


def test_the_next_request_on_a_kept_alive_connection_is_timed_from_its_first_byte(
    server: ServeProcess,
) -> None:
    # uvicorn stops its keep-alive timer on any byte: without the header timer, a client
    # could hold the connection for ever by sending one byte of its next request.
    [connection] = open_connections(port_of(server), 1, [request()])
    sock = connection.sock
    try:
        assert read_response(sock)[0] == 200
        time.sleep(0.5)
        sock.sendall(b"GET")
        waited = closed_within(sock, timeout=KEEPALIVE_TIMEOUT + SLACK)
        assert waited is not None, "the half-sent second request held the connection"
        assert HEADER_TIMEOUT * 0.8 <= waited < KEEPALIVE_TIMEOUT, waited
    finally:
        sock.close()


def test_the_rest_of_an_answered_request_is_timed_too(server: ServeProcess) -> None:
    # A request without a token is answered 401 before its body is read. uvicorn then reads
    # and drops the body for as long as it comes, each byte stopping the keep-alive timer: a
    # chunked body trickled after the answer held the connection for ever, with no token.
    bot = "st-00000000-0000-4000-8000-000000000000"
    path = f"/agentassist/api/v1/public/{bot}/campaign/contactList/createContactList"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    [connection] = open_connections(port_of(server), 1, [head.encode()])
    sock = connection.sock
    try:
        assert read_response(sock)[0] == 401
        answered = time.monotonic()
        sock.settimeout(0.1)
        closed = False
        while time.monotonic() - answered < KEEPALIVE_TIMEOUT + SLACK:
            try:
                sock.sendall(b"1\r\na\r\n")
                closed = sock.recv(65536) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
        assert closed, "a body trickled after the answer held the connection"
        waited = time.monotonic() - answered
        assert HEADER_TIMEOUT * 0.8 <= waited < HEADER_TIMEOUT + SLACK, waited
    finally:
        sock.close()


def test_an_idle_connection_is_closed_after_the_keepalive_timeout(server: ServeProcess) -> None:
    [connection] = open_connections(port_of(server), 1, [request()])
    sock = connection.sock
    try:
        assert read_response(sock)[0] == 200
        waited = closed_within(sock, timeout=KEEPALIVE_TIMEOUT + 2 * SLACK)
        assert waited is not None
        # The header timeout (shorter) does not apply before a byte of a new request.
        assert KEEPALIVE_TIMEOUT * 0.8 <= waited <= KEEPALIVE_TIMEOUT + 2 * SLACK, waited
    finally:
        sock.close()


def test_well_behaved_clients_are_served(server: ServeProcess) -> None:
    # Headers in two parts within the timeout, then the same connection reused after pauses
    # shorter than the keep-alive timeout, then two requests sent at once (pipelined).
    [connection] = open_connections(port_of(server), 1, [b"GET /healthz HTTP/1.1\r\n"])
    sock = connection.sock
    try:
        time.sleep(HEADER_TIMEOUT / 2)
        sock.sendall(b"Host: test\r\n\r\n")
        assert read_response(sock) == (200, b'{"status":"ok"}')
        for _ in range(3):
            time.sleep(HEADER_TIMEOUT * 0.8)  # longer than the header timeout, in all
            sock.sendall(request())
            assert read_response(sock)[0] == 200
        sock.sendall(request() + request())
        assert read_response(sock)[0] == 200
        assert read_response(sock)[0] == 200
    finally:
        sock.close()


def test_invalid_requests_do_not_flood_the_log(server: ServeProcess) -> None:
    log = LogWindow(server)
    connections = open_connections(port_of(server), 300, [b"\x00\x01 not http\r\n\r\n"])
    try:
        assert not wait_until_closed(connections, timeout=HEADER_TIMEOUT + 10 * SLACK)
        assert all(c.received.startswith(b"HTTP/1.1 400 ") for c in connections)
    finally:
        close_all(connections)
    assert healthz(server.base_url).status_code == 200
    time.sleep(0.5)
    invalid = [r for r in log.records() if r["message"].startswith("Invalid HTTP request")]
    assert 1 <= len(invalid) <= 10, invalid
    assert len(log.lines()) < MAX_NEW_LOG_LINES
