"""What the SDK tests share: contacts to send, CSV files, and a recording fake service.

The fake (:class:`Recorder`, an ``httpx.MockTransport``) stands in for the service only where
it cannot be made to answer as a test needs (rate limits, proxies' 502s, broken connections).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from contactlists.client import AsyncClient, Client, RetryPolicy

BASE_URL = "http://contactlists.test"
BOT = "st-00000000-0000-4000-8000-000000000001"
CLIENT_ID = "cs-00000000-0000-4000-8000-000000000002"
CLIENT_SECRET = "s" * 43
# Tiny waits, so the retry tests take milliseconds.
FAST = RetryPolicy(max_retries=2, backoff_base=0.001, backoff_max=0.01)

LIST_ID = "cl-00000000-0000-4000-8000-000000000003"
JOB_ID = "job-00000000-0000-4000-8000-000000000004"


def phone(n: int) -> str:
    """A distinct valid US number per ``n`` (0 ≤ n < 10,000): 415-555-0000 onwards."""
    return f"+1415555{n:04d}"


def people(count: int, *, start: int = 0, **extra: str) -> list[dict[str, str]]:
    return [
        {"phoneNumber": phone(n), "firstName": f"First{n}", "lastName": f"Last{n}", **extra}
        for n in range(start, start + count)
    ]


def csv_file(rows: Sequence[Sequence[str]], *, compress: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode()
    return gzip.compress(data) if compress else data


@contextmanager
def pipe_with(data: bytes) -> Iterator[IO[bytes]]:
    """The read end of a pipe that ``data`` is written into: a file of unknown size, read once
    (as standard input is)."""
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb") as sink:
            sink.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with os.fdopen(read_end, "rb") as source:
            yield source
    finally:
        writer.join(timeout=10)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# ---------------------------------------------------------------- the fake service


def envelope(status: int, reason: str, message: str = "It failed.", **entry: Any) -> httpx.Response:
    """An error answer as CONTRACT §6 writes it."""
    body = {
        "status": "failure",
        "message": message,
        "errors": [{"msg": message, "code": status, "reason": reason, **entry}],
    }
    return httpx.Response(status, json=body, headers={"X-Request-Id": f"req-{reason}"})


def list_answer() -> httpx.Response:
    """A success answer of create/get list (v2 shape)."""
    data = {
        "_id": LIST_ID,
        "isActive": True,
        "name": "Fake",
        "description": "",
        "totalRecordCount": 0,
        "status": "Ready",
        "createdBy": CLIENT_ID,
        "updatedBy": CLIENT_ID,
        "mapping": {
            key: key
            for key in (
                "firstName",
                "lastName",
                "phoneNumber",
                "timeZone",
                "uniqueId",
                "contactPriority",
            )
        },
        "isListInUse": False,
        "listType": "call",
        "isGlobalDNC": False,
        "isDefault": False,
        "campaignInUse": [],
        "source": "passiveApi",
        "apiConfigurations": {"dataSyncMode": "dontAllowDuplicates"},
        "columns": [],
        "files": [],
        "createdAt": "2025-06-26T12:32:02.735Z",
        "updatedAt": "2025-06-26T12:32:02.735Z",
        "allowDuplicates": False,
        "defaultRegion": "US",
    }
    return httpx.Response(200, json={"status": "success", "message": "", "data": data})


def job_answer(state: str = "running") -> httpx.Response:
    data = {
        "_id": JOB_ID,
        "type": "upload",
        "state": state,
        "contactListId": LIST_ID,
        "total": None,
        "processed": 0,
        "inserted": 0,
        "duplicates": 0,
        "invalid": 0,
        "errors": [],
        "createdAt": "2025-06-26T12:32:02.735Z",
        "startedAt": None,
        "finishedAt": None,
    }
    return httpx.Response(200, json={"status": "success", "message": "", "data": data})


def accepted_answer() -> httpx.Response:
    body = {"status": "success", "message": "in progress", "jobId": JOB_ID}
    return httpx.Response(200, json=body)


Answer = httpx.Response | Exception


@dataclass
class Recorder:
    """A fake service that answers from a script, one entry per request, and keeps them all.

    An entry that is an exception is raised as the transport would raise it (after the
    request was made, so the body counts as sent).
    """

    script: list[Answer]
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def _next(self, request: httpx.Request, body: bytes) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(body)
        if not self.script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def handle(self, request: httpx.Request) -> httpx.Response:
        return self._next(request, request.read())

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self._next(request, await request.aread())

    def client(self, **options: Any) -> Client:
        options.setdefault("retry", FAST)
        return Client(
            BASE_URL,
            bot=BOT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            transport=httpx.MockTransport(self.handle),
            **options,
        )

    def async_client(self, **options: Any) -> AsyncClient:
        options.setdefault("retry", FAST)
        return AsyncClient(
            BASE_URL,
            bot=BOT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            transport=httpx.MockTransport(self.handle_async),
            **options,
        )

    def json_bodies(self) -> list[Any]:
        return [json.loads(body) if body else None for body in self.bodies]


class BreakingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that sends ``chunks`` and then loses the connection."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        raise httpx.ReadError("connection reset mid-body")

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk
        raise httpx.ReadError("connection reset mid-body")
