"""The bounds of ``serve`` on connections, against a real process (no authentication needed).

Before, a connection that never finished its headers was never closed: 20,000 of them used
up the file descriptors, ``/healthz`` timed out, and asyncio wrote 231,000 error lines.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from contactlists.cli.serve import DEV_BOT
from tests.cli.test_serve import printed_token
from tests.support.durable import service_settings
from tests.support.processes import Process, start_serve

pytestmark = pytest.mark.serial

HALF_OPEN = 2_000


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Process]:
    values: dict[str, object] = getattr(request, "param", {})
    settings = service_settings(tmp_path, log_level="INFO", **values)
    process = start_serve(f"sqlite:///{tmp_path / 'bounds.db'}", tmp_path / "serve.log", settings)
    try:
        yield process
    finally:
        process.stop()


def address(server: Process) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").split(":")
    return host, int(port)


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closed ``sock`` within ``timeout`` seconds (EOF or a reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def healthy(server: Process) -> bool:
    return httpx.get(f"{server.base_url}/healthz", timeout=5.0).status_code == 200


@pytest.mark.parametrize("server", [{"header_timeout_seconds": 1}], indirect=True)
def test_half_open_connections_are_closed_after_the_header_timeout(server: Process) -> None:
    lines_before = len(server.output.splitlines())
    with ExitStack() as stack:
        sockets = []
        for number in range(HALF_OPEN):
            sock = stack.enter_context(socket.create_connection(address(server)))
            # Half of them say nothing; the others start a request and never end its headers.
            if number % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        time.sleep(1.5)

        still_open = [sock for sock in sockets if not closed_by_peer(sock, timeout=5.0)]

        assert still_open == []
    assert healthy(server)
    # Closing a connection that asked nothing writes nothing; the log stays short.
    assert len(server.output.splitlines()) - lines_before < 50, server.output[-3000:]


@pytest.mark.parametrize("server", [{"header_timeout_seconds": 1}], indirect=True)
def test_a_kept_alive_connection_must_finish_its_next_headers_in_time(server: Process) -> None:
    with socket.create_connection(address(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5.0)
        answer = b""
        while not answer.endswith(b'{"status":"ok"}'):  # the whole answer, body included
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # and no more

        assert closed_by_peer(sock, timeout=4.0)


@pytest.mark.parametrize(
    "server", [{"max_connections": 50, "header_timeout_seconds": 60}], indirect=True
)
def test_connections_beyond_the_cap_are_closed_at_once(server: Process) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(socket.create_connection(address(server))) for _ in range(50)]
        time.sleep(0.5)
        beyond = [stack.enter_context(socket.create_connection(address(server))) for _ in range(20)]

        assert all(closed_by_peer(sock, timeout=5.0) for sock in beyond)
        assert not closed_by_peer(held[0], timeout=0.5)
    # Once they are gone, the server serves again.
    deadline = time.monotonic() + 10
    while not healthy(server):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert re.search(r"refused a connection: 50 are open", server.output)
    assert server.output.count("refused a connection") <= 5  # the flood guard


def test_a_client_that_leaves_mid_body_is_not_a_server_error(server: Process) -> None:
    # The development app `serve` made on the empty database: a body is read only once the
    # caller's token has passed.
    token = printed_token(server.output)
    path = f"/campaign/api/v2/public/{DEV_BOT}/campaign/contactList/createContactList"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nauth: {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(address(server)) as sock:
        sock.sendall(head.encode() + b'{"name":')
        time.sleep(0.3)

    # Until the request is counted, under whatever status.
    deadline = time.monotonic() + 15
    while True:
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=5.0).text
        if "createContactList" in metrics or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert 'status="499"' in metrics
    assert 'status="500"' not in metrics
    assert "Traceback" not in server.output
    assert '"level": "ERROR"' not in server.output
