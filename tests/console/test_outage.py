"""The database goes away under the console: a clear message, and nothing typed is lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from contactlists.db import migrate
from tests.console.conftest import ConsolePage
from tests.support.databases import DatabaseFactory
from tests.support.durable import service_settings
from tests.support.live import LiveService
from tests.support.processes import start_serve
from tests.support.proxy import TcpProxy, tcp_proxy

pytestmark = pytest.mark.serial


@pytest.fixture
def behind_proxy(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[LiveService, TcpProxy]]:
    """``serve`` on PostgreSQL through a proxy the test can cut (SQLite has no network)."""
    database_url = fresh_database.create("postgresql")
    migrate.upgrade(database_url)
    database = make_url(database_url)
    with tcp_proxy(database.host or "127.0.0.1", database.port or 5432) as proxy:
        proxied = database.set(host="127.0.0.1", port=proxy.port)
        settings = service_settings(
            tmp_path, db_connect_timeout_seconds=1, db_statement_timeout_seconds=3
        )
        server = start_serve(
            proxied.render_as_string(hide_password=False), tmp_path / "serve.log", settings
        )
        try:
            yield LiveService("postgresql", database_url, server), proxy
        finally:
            server.stop()


def test_the_database_going_away_shows_a_message_and_loses_nothing(
    chrome: Any, behind_proxy: tuple[LiveService, TcpProxy]
) -> None:
    service, proxy = behind_proxy
    tenant = service.tenant()
    console = ConsolePage(chrome, service.base_url)
    console.open()
    chrome.execute_script("sessionStorage.clear()")
    console.open()
    name = f"Made after the outage {uuid.uuid4().hex[:6]}"
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#lists tbody", "No lists yet.")
    console.fill("New list name", name)

    proxy.cut()
    console.click("Create list")
    console.wait_text("#notice", "The service is temporarily unavailable; try again shortly.")
    assert console.all("#signin")[0].is_displayed() is False  # still signed in

    proxy.restore()
    assert console.attribute("#create-list input", "value") == name
    console.click("Create list")
    console.wait_text("#lists tbody tr", name)
    chrome.execute_script("sessionStorage.clear()")
