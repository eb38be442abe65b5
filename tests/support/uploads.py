"""Requests for the upload and export tests (CONTRACT §4.8), and the files they leave behind."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactlists.app import create_app
from contactlists.config import Settings
from tests.support.paths import Paths
from tests.support.tenants import Tenant

BOM = b"\xef\xbb\xbf"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def upload_url(family: str, tenant: Tenant, list_id: str) -> str:
    return f"{Paths(family, tenant.bot).list(list_id)}/upload"


def export_url(family: str, tenant: Tenant, list_id: str) -> str:
    return f"{Paths(family, tenant.bot).list(list_id)}/export"


def csv_bytes(rows: Sequence[Sequence[str]], *, newline: str = "\r\n", bom: bool = False) -> bytes:
    """``rows`` as a CSV file (quoted where needed), UTF-8, optionally with a BOM."""
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return (BOM if bom else b"") + out.getvalue().encode()


async def upload(
    client: AsyncClient,
    tenant: Tenant,
    list_id: str,
    content: bytes,
    *,
    file_name: str = "contacts.csv",
    mapping: dict[str, str] | str | None = None,
    family: str = "v1",
    encoding: str | None = None,
    media_type: str = "text/csv",
    on_duplicate: str | None = None,
) -> Response:
    """POST the file as multipart ``file`` (and ``mapping``: a dict is sent as JSON, and
    ``encoding``)."""
    data: dict[str, str] = {}
    if mapping is not None:
        data["mapping"] = mapping if isinstance(mapping, str) else json.dumps(mapping)
    if encoding is not None:
        data["encoding"] = encoding
    if on_duplicate is not None:
        data["onDuplicate"] = on_duplicate
    return await client.post(
        upload_url(family, tenant, list_id),
        files={"file": (file_name, content, media_type)},
        data=data,
        headers=tenant.headers(),
    )


async def upload_ok(
    client: AsyncClient,
    tenant: Tenant,
    list_id: str,
    content: bytes,
    **kwargs: Any,
) -> str:
    """Upload a file that is accepted; the job id."""
    response = await upload(client, tenant, list_id, content, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert isinstance(body["message"], str)
    assert body["message"]
    job_id: str = body["jobId"]
    assert job_id.startswith("job-")
    return job_id


def multipart_body(parts: Sequence[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body made by hand from (Content-Disposition value, content) pairs.

    httpx percent-encodes control characters in file names; this sends the bytes as given.
    """
    boundary = f"----upload{secrets.token_hex(8)}"
    chunks: list[bytes] = []
    for disposition, content in parts:
        chunks += [
            f"--{boundary}\r\n".encode(),
            b"Content-Disposition: " + disposition + b"\r\n",
            b"Content-Type: text/csv\r\n\r\n",
            content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def export(client: AsyncClient, tenant: Tenant, list_id: str, family: str = "v1") -> str:
    """The export of a list as text, after checking it is CSV."""
    response = await client.get(export_url(family, tenant, list_id), headers=tenant.headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.content.decode()


def export_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def files_under(directory: Path) -> list[Path]:
    """Every file below ``directory`` (none when it does not exist)."""
    if not directory.exists():
        return []
    return sorted(path for path in directory.rglob("*") if path.is_file())


class BodyRecorder:
    """Wraps an ASGI app and keeps the body chunks it sends, one entry per message.

    httpx's ASGITransport joins a response's chunks into one before the client sees them, so
    whether a response is streamed is observed here, at the ASGI boundary.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.chunks: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                self.chunks.append(message["body"])
            await send(message)

        await self.app(scope, receive, recording_send)


@asynccontextmanager
async def app_with(
    settings: Settings, **changes: Any
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app on the test's database with some settings changed, and a client for it."""
    application = create_app(settings.model_copy(update=changes))
    async with (
        application.router.lifespan_context(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as http,
    ):
        yield application, http
