"""Real Chromium for the console's tests, and a ``serve`` process per backend to point it at.

Chromium and chromedriver come from Debian (``chromium``, ``chromium-driver``). Without them
the tests are skipped, and the run ends with a banner saying so; with
``CONTACTLISTS_REQUIRE_BROWSER=1`` (CI sets it) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.durable import service_settings
from tests.support.live import BACKENDS, LiveService
from tests.support.processes import start_serve

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_PATHS = ("/usr/bin/chromedriver",)
WINDOW = (1280, 800)
SKIPPED: list[str] = []


def _first(paths: tuple[str, ...], name: str) -> str | None:
    found = next((path for path in paths if Path(path).exists()), None)
    return found or shutil.which(name)


def browser_required() -> bool:
    return os.environ.get("CONTACTLISTS_REQUIRE_BROWSER", "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    chromium = _first(CHROMIUM_PATHS, "chromium")
    driver = _first(CHROMEDRIVER_PATHS, "chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = "Chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
    if browser_required():
        pytest.fail(f"CONTACTLISTS_REQUIRE_BROWSER is set but {reason}")
    SKIPPED.append(reason)
    pytest.skip(f"console browser tests skipped: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SKIPPED:
        terminalreporter.write_sep("!", "THE CONSOLE'S BROWSER TESTS DID NOT RUN", red=True)
        terminalreporter.write_line(SKIPPED[0])


@pytest.fixture(scope="session")
def chrome(
    chromium_paths: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    downloads = tmp_path_factory.mktemp("downloads")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session", params=BACKENDS)
def console_service(
    request: pytest.FixtureRequest,
    fresh_database: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveService]:
    """``serve`` on each backend, logging every request (the tests read its log)."""
    backend: str = request.param
    database_url = fresh_database.create(backend)
    directory = tmp_path_factory.mktemp(f"console-{backend}")
    settings = service_settings(directory, log_level="INFO")
    server = start_serve(database_url, directory / "serve.log", settings)
    try:
        yield LiveService(backend=backend, database_url=database_url, process=server)
    finally:
        server.stop()
