"""``/docs`` in Chromium shows every operation of ``/openapi.json``, with no other host."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.live import LiveService

pytestmark = pytest.mark.serial

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
LOAD_SECONDS = 60


def test_docs_render_every_operation(chrome: Any, console_service: LiveService) -> None:
    document = httpx.get(f"{console_service.base_url}/openapi.json").json()
    operations = sum(
        1 for item in document["paths"].values() for method in item if method in METHODS
    )
    assert document["openapi"].startswith("3.1")

    chrome.get(f"{console_service.base_url}/docs")
    WebDriverWait(chrome, LOAD_SECONDS).until(
        lambda driver: (
            driver.find_elements(By.CSS_SELECTOR, ".opblock")
            or driver.find_elements(By.CSS_SELECTOR, ".errors-wrapper")
        )
    )

    page = chrome.find_element(By.TAG_NAME, "body").text
    assert "Unable to render this definition" not in page
    shown = chrome.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(shown) == operations
    # Every asset came from the service itself.
    hosts = chrome.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).host)"
    )
    assert set(hosts) == {console_service.base_url.removeprefix("http://")}
