"""Cancelling an import from the console, while it waits for a worker."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import ConsolePage
from tests.support.databases import DatabaseFactory
from tests.support.durable import service_settings
from tests.support.live import BACKENDS, LiveService
from tests.support.processes import start_serve

pytestmark = pytest.mark.serial


@pytest.fixture(params=BACKENDS)
def without_workers(
    request: pytest.FixtureRequest, fresh_database: DatabaseFactory, tmp_path: Path
) -> Iterator[LiveService]:
    """``serve`` with no job worker: an import stays queued until it is cancelled."""
    database_url = fresh_database.create(request.param)
    settings = service_settings(tmp_path, workers=0)
    server = start_serve(database_url, tmp_path / "serve.log", settings)
    try:
        yield LiveService(request.param, database_url, server)
    finally:
        server.stop()


def test_an_import_is_cancelled_from_its_progress_and_from_the_jobs_page(
    chrome: Any, without_workers: LiveService, tmp_path: Path
) -> None:
    tenant = without_workers.tenant()
    name = f"Never filled {uuid.uuid4().hex[:6]}"
    with tenant.client() as sdk:
        created = sdk.lists.create(name)
    upload = tmp_path / "few.csv.gz"  # a gzip file is previewed as the CSV inside it
    upload.write_bytes(gzip.compress(b"phoneNumber\n+12125550100\n+12125550101\n"))
    console = ConsolePage(chrome, without_workers.base_url)
    console.open()
    chrome.execute_script("sessionStorage.clear()")
    console.open()
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#lists tbody tr", name)

    # From the import's live progress.
    console.open(f"#/lists/{created.id}")
    console.fill("CSV file (or gzip)", str(upload))
    console.wait_text("#preview-rows", "+12125550100")
    console.click("Start import")
    console.wait(lambda d: console.attribute("#job-facts", "data-state") == "queued")
    console.click("Cancel import")
    console.wait(lambda d: console.attribute("#job-facts", "data-state") == "cancelled")
    console.wait_text('[data-fact="Contacts"]', "0")

    # From the jobs page.
    with tenant.client() as sdk:
        job_id = sdk.contacts.add(name, [{"phoneNumber": "+12125550102"}]).jobId
    console.open("#/jobs")
    console.wait_text(f'#jobs tr[data-id="{job_id}"]', "queued")
    console.click("Cancel", f'#jobs tr[data-id="{job_id}"]')
    console.wait_text(f'#jobs tr[data-id="{job_id}"]', "cancelled")
    assert "Cancel" not in console.buttons("#jobs tbody")
    with tenant.client() as sdk:
        assert sdk.jobs.get(job_id).state == "cancelled"
        assert sdk.lists.get(created.id).totalRecordCount == 0
    chrome.execute_script("sessionStorage.clear()")
