"""Real Chromium for the console's tests, and a ``serve`` process per backend to point it at.

Chromium and chromedriver come from Debian (``chromium``, ``chromium-driver``). Without them
the tests are skipped, and the run ends with a banner saying so; with
``CONTACTLISTS_REQUIRE_BROWSER=1`` (CI sets it) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    """Debian's Chromium and chromedriver (``CONTACTLISTS_CHROMIUM`` and
    ``CONTACTLISTS_CHROMEDRIVER`` name others)."""
    chromium = os.environ.get("CONTACTLISTS_CHROMIUM") or _first(CHROMIUM_PATHS, "chromium")
    driver = os.environ.get("CONTACTLISTS_CHROMEDRIVER") or _first(
        CHROMEDRIVER_PATHS, "chromedriver"
    )
    chromium = chromium if chromium and Path(chromium).exists() else None
    driver = driver if driver and Path(driver).exists() else None
    if chromium and driver:
        return chromium, driver
    reason = "Chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
    if browser_required():
        pytest.fail(f"CONTACTLISTS_REQUIRE_BROWSER is set but {reason}")
    SKIPPED.append(reason)
    pytest.skip(f"console browser tests skipped: {reason}")


@pytest.hookimpl(trylast=True)
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
    # The page itself is 1280×800 (the window's own frame would take some of it otherwise).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False},
    )
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


WAIT_SECONDS = 60


class ConsolePage:
    """The console in Chromium, driven the way a person would: by labels, buttons and text."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, fragment: str = "") -> None:
        self.driver.get(f"{self.base_url}/console{fragment}")

    def wait(self, condition: Callable[[Any], Any], message: str = "") -> Any:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # The console re-renders as data arrives: an element found a moment ago may be gone.
        waiting = WebDriverWait(
            self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)
        )
        return waiting.until(condition, message)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.wait(
            lambda driver: next(
                (el for el in driver.find_elements(By.CSS_SELECTOR, css) if el.is_displayed()),
                None,
            ),
            f"no visible {css}",
        )

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def button(self, text: str, within: str = "body") -> Any:
        from selenium.webdriver.common.by import By

        def visible(driver: Any) -> Any:
            for scope in driver.find_elements(By.CSS_SELECTOR, within):
                for el in scope.find_elements(By.TAG_NAME, "button"):
                    if el.is_displayed() and el.text.strip() == text and el.is_enabled():
                        return el
            return None

        return self.wait(visible, f"no enabled button {text!r} in {within}")

    def click(self, text: str, within: str = "body") -> None:
        """Click the enabled button ``text``; found again if the page re-renders meanwhile."""

        def clicked(driver: Any) -> bool:
            self.button(text, within).click()
            return True

        self.wait(clicked, f"could not click {text!r} in {within}")

    def buttons(self, within: str) -> list[str]:

        # Wrapped in a tuple: an empty list is an answer too, not a reason to wait on.
        found: tuple[list[str]] = self.wait(lambda driver: (self._buttons(driver, within),))
        return found[0]

    def _buttons(self, driver: Any, within: str) -> list[str]:
        from selenium.webdriver.common.by import By

        return [
            el.text.strip()
            for scope in driver.find_elements(By.CSS_SELECTOR, within)
            for el in scope.find_elements(By.TAG_NAME, "button")
            if el.is_displayed()
        ]

    def text(self, css: str = "body") -> str:
        from selenium.webdriver.common.by import By

        return str(
            self.wait(
                lambda driver: next(
                    (
                        el.text
                        for el in driver.find_elements(By.CSS_SELECTOR, css)
                        if el.is_displayed()
                    ),
                    None,
                ),
                f"no visible {css}",
            )
        )

    def attribute(self, css: str, name: str) -> str | None:
        from selenium.webdriver.common.by import By

        return self.wait(
            lambda driver: [
                el.get_attribute(name) for el in driver.find_elements(By.CSS_SELECTOR, css)
            ]
        )[0]

    def wait_text(self, css: str, text: str) -> str:
        from selenium.webdriver.common.by import By

        def has(driver: Any) -> str | None:
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and text in el.text:
                    return str(el.text)
            return None

        found: str = self.wait(has, f"{text!r} never appeared in {css}")
        return found

    def fill(self, label: str, value: str) -> Any:
        from selenium.webdriver.common.by import By

        def field(driver: Any) -> Any:
            for el in driver.find_elements(By.TAG_NAME, "label"):
                if el.is_displayed() and el.text.strip() == label:
                    return driver.find_element(By.ID, el.get_attribute("for"))
            return None

        element = self.wait(field, f"no field labelled {label!r}")
        if element.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(element).select_by_visible_text(value)
        elif element.get_attribute("type") == "file":
            element.send_keys(value)
        else:
            element.clear()
            element.send_keys(value)
        return element

    def sign_in(self, client_id: str, secret: str, bot: str) -> None:
        self.find("#signin-form")
        self.fill("Client id", client_id)
        self.fill("Client secret", secret)
        self.fill("Bot id", bot)
        self.click("Sign in")

    def storage(self) -> str:
        """Everything the page could keep: both storages and its cookies, as one text."""
        return str(
            self.driver.execute_script(
                "return JSON.stringify([Object.entries(sessionStorage),"
                " Object.entries(localStorage), document.cookie])"
            )
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def console(
    chrome: Any, console_service: LiveService, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ConsolePage]:
    """The console, freshly opened: nothing kept from an earlier test in this browser.

    When the test fails, the page is saved as a PNG and its path printed.
    """
    page = ConsolePage(chrome, console_service.base_url)
    page.open()
    chrome.execute_script("sessionStorage.clear(); localStorage.clear()")
    chrome.delete_all_cookies()
    page.open()
    yield page
    if request.node.stash.get(FAILED, False):
        shot = tmp_path / "failed.png"
        chrome.save_screenshot(str(shot))
        sys.stdout.write(f"the page when the test failed: {shot}\n")
    chrome.execute_script("sessionStorage.clear()")
