"""A client that leaves in the middle of its body is a 499, not an error (real serve).

Before, Starlette's ClientDisconnect reached the app's last-resort handler: an ERROR line with
a traceback per request, and a 500 in the access log and in ``/metrics``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.server.support import LogWindow, metric_value, port_of, serve
from tests.support.servers import ServeProcess, parse_curl

pytestmark = pytest.mark.serial

REQUESTS_METRIC = "contactlists_http_requests_total"
CREATE_ROUTE = "/agentassist/api/v1/public/{bot}/campaign/contactList/createContactList"
UPLOAD_ROUTE = "/agentassist/api/v1/public/{bot}/campaign/contactList/{list_id}/upload"
BOUNDARY = "contactlists-test-boundary"


@dataclass
class Caller:
    server: ServeProcess
    base: str  # …/campaign/contactList
    headers: dict[str, str]


@pytest.fixture(scope="module")
def caller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Caller]:
    with serve(tmp_path_factory.mktemp("client-disconnect"), {}) as server:
        # The development app that serve prints on an empty database, through its curl example.
        curl = parse_curl(server.output)
        headers = {name: value for name, value in curl.headers.items() if name != "Content-Type"}
        yield Caller(server=server, base=curl.url.rsplit("/", 1)[0], headers=headers)


def send_part_then_leave(caller: Caller, path: str, head: dict[str, str], body: bytes) -> None:
    """Complete headers announcing 100,000 bytes, ``body`` of them, then close the socket."""
    fields = {"Host": "test", **caller.headers, **head, "Content-Length": "100000"}
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items()), "", ""]
    with socket.create_connection(("127.0.0.1", port_of(caller.server)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + body)
        time.sleep(0.3)  # the app is reading the body by now


def wait_for_metric(caller: Caller, route: str, status: str, timeout: float = 10) -> float:
    deadline = time.monotonic() + timeout
    labels = {"method": "POST", "route": route, "status": status}
    while True:
        value = metric_value(caller.server.base_url, REQUESTS_METRIC, labels)
        if value is not None:
            return value
        assert time.monotonic() < deadline, f"no {status} counted for {route}"
        time.sleep(0.1)


def test_leaving_mid_body_is_counted_as_499_without_an_error(caller: Caller) -> None:
    created = httpx.post(
        f"{caller.base}/createContactList",
        headers=caller.headers,
        json={"name": "for uploads"},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    list_id = created.json()["data"]["_id"]
    log = LogWindow(caller.server)
    prefix = caller.base.split("://", 1)[1].split("/", 1)[1]

    send_part_then_leave(
        caller,
        f"/{prefix}/createContactList",
        {"Content-Type": "application/json"},
        b'{"name": "half a',
    )
    send_part_then_leave(
        caller,
        f"/{prefix}/{list_id}/upload",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="contacts.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
            "phoneNumber\r\n+14155550100\r\n"
        ).encode(),
    )

    assert wait_for_metric(caller, CREATE_ROUTE, "499") == 1
    assert wait_for_metric(caller, UPLOAD_ROUTE, "499") == 1
    for route in (CREATE_ROUTE, UPLOAD_ROUTE):
        labels = {"method": "POST", "route": route, "status": "500"}
        assert metric_value(caller.server.base_url, REQUESTS_METRIC, labels) is None

    time.sleep(0.5)  # the reader thread catches up with the server's output
    records = log.records()
    problems = [r for r in records if r["level"] not in ("DEBUG", "INFO") or "exception" in r]
    assert not problems, problems
    access = [r for r in records if r["logger"] == "contactlists.access"]
    assert sorted(r["route"] for r in access if r["status"] == 499) == sorted(
        [CREATE_ROUTE, UPLOAD_ROUTE]
    ), access
    assert not [line for line in log.lines() if "Traceback" in line]

    # Nothing was half-created: the list made above is still the only one.
    listed = httpx.post(f"{caller.base}/getAllListDetails", headers=caller.headers, timeout=10)
    assert [item["_id"] for item in listed.json()["data"]] == [list_id]
