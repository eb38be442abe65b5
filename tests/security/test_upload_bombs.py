"""Uploads are read whole before they are queued, within bounds, off the event loop.

Before, gzip bombs were opened inside the upload request (a 294 KB file kept it busy 90 s),
invalid UTF-8 past the first 64 KiB was accepted and failed the import half-way, and an
unclosed quote silently merged the next rows into one cell.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from contactlists.cli.serve import DEV_BOT
from contactlists.config import Settings
from tests.cli.test_serve import printed_token
from tests.support.contacts import create_list, job
from tests.support.durable import service_settings
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.processes import start_serve
from tests.support.tenants import Tenant
from tests.support.uploads import upload, upload_ok

pytestmark = pytest.mark.anyio

# 400 MB of short, valid-looking lines in well under 1 MB: only its size gives it away.
BOMB = gzip.compress(b"phoneNumber\n" + b"12025550100\n" * (35 * 1024 * 1024), compresslevel=9)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_stored_row_errors": 1000})


def uploads_left(settings: Settings) -> list[Path]:
    directory = settings.data_dir / "uploads"
    return sorted(directory.iterdir()) if directory.exists() else []


async def test_a_gzip_bomb_is_refused_with_413_before_it_is_inflated(
    client: AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    created = await create_list(client, tenant, "Bombed")
    assert len(BOMB) < 1024 * 1024

    response = await upload(client, tenant, created["_id"], BOMB, file_name="x.csv.gz")

    # Refused for its ratio: stopped after 100 times its size, not inflated to 400 MB.
    assert_failure(response, 413, "payload_too_large")
    assert "times its size" in response.json()["message"]
    assert uploads_left(settings) == []


async def test_a_small_bomb_of_one_long_line_is_refused(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create_list(client, tenant, "Bombed")
    small = gzip.compress(b"phoneNumber\n" + b"1" * (1024 * 1024), compresslevel=9)
    assert len(small) < 2048

    response = await upload(client, tenant, created["_id"], small, file_name="x.csv.gz")

    assert_validation_error(response, ["file"])


async def test_a_ten_megabyte_single_line_is_refused(client: AsyncClient, tenant: Tenant) -> None:
    created = await create_list(client, tenant, "Long")
    content = b"phoneNumber,note\n+12025550100," + b"x" * (10 * 1024 * 1024) + b"\n"

    response = await upload(client, tenant, created["_id"], content)

    errors = assert_validation_error(response, ["file"])
    assert "line 2" in errors[0]["msg"]


async def test_an_unclosed_quote_is_refused_not_merged(client: AsyncClient, tenant: Tenant) -> None:
    created = await create_list(client, tenant, "Quoted")
    content = b'phoneNumber,note\n+12025550100,"open\n+12025550101,b\n+12025550102,c\n'

    response = await upload(client, tenant, created["_id"], content)

    errors = assert_validation_error(response, ["file"])
    assert "unexpected end of data" in errors[0]["msg"]


async def test_a_job_keeps_its_first_row_errors_counts_all_and_pages_them(
    client: AsyncClient, tenant: Tenant, run_jobs: Callable[[], Awaitable[int]]
) -> None:
    created = await create_list(client, tenant, "Errors")
    rows = b"".join(b"not-a-number-%d\n" % n for n in range(2500))
    job_id = await upload_ok(client, tenant, created["_id"], b"phoneNumber\n" + rows)
    await run_jobs()

    report = await job(client, tenant, job_id)
    assert report["invalid"] == 2500
    pages: list[list[dict[str, Any]]] = []
    after = 0
    while True:
        page = await client.get(
            f"{Paths('v1', tenant.bot).prefix}/jobs/{job_id}/errors",
            params={"after_row": after, "limit": 300},
            headers=tenant.headers(),
        )
        assert page.status_code == 200, page.text
        found = page.json()["data"]
        if not found:
            break
        pages.append(found)
        after = found[-1]["row"]
    stored = [error["row"] for page in pages for error in page]
    assert len(stored) == 1000
    assert stored == sorted(set(stored))
    assert [len(page) for page in pages] == [300, 300, 300, 100]


@pytest.mark.serial
def test_a_bomb_upload_does_not_stall_the_server(tmp_path: Path) -> None:
    server = start_serve(
        f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "serve.log", service_settings(tmp_path)
    )
    try:
        token = printed_token(server.output)
        headers = {"auth": token}
        with httpx.Client(base_url=server.base_url, timeout=300.0) as http:
            created = http.post(
                Paths("v2", DEV_BOT).create, json={"name": "Bombed"}, headers=headers
            )
            assert created.status_code == 200, created.text
            path = f"{Paths('v2', DEV_BOT).list(created.json()['data']['_id'])}/upload"
            answers: list[httpx.Response] = []

            def send() -> None:
                answers.append(http.post(path, files={"file": ("x.csv.gz", BOMB)}, headers=headers))

            uploading = threading.Thread(target=send)
            uploading.start()
            worst = 0.0
            with httpx.Client(base_url=server.base_url, timeout=10.0) as probe:
                while uploading.is_alive():
                    started = time.monotonic()
                    assert probe.get("/healthz").status_code == 200
                    worst = max(worst, time.monotonic() - started)
                    time.sleep(0.1)
            uploading.join()

        assert answers[0].status_code == 413, answers[0].text
        assert worst <= 0.2, worst
    finally:
        server.stop()
