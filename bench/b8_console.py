"""B8 — console pages against the API calls they make, in Chromium, at size.

A console page is a view over API answers: it should not be slower than its data. With a bot
of ``--lists`` lists, one of them holding ``--contacts`` contacts, this signs in to the console
in Debian's Chromium and visits the lists page and the big list's page in turn, ``--visits``
times each. For every visit the page itself records, with the browser's own clocks:

- **page**: from the moment the address changes to the first animation frame after the page's
  content is in the document (the console swaps a finished page in whole);
- **API**: the span of the API requests the visit made (Resource Timing: first request's start
  to last response's end; the list page makes three, two of them side by side).

The target is page ≤ 2 × API (medians). The difference is what the page adds: routing, building
the table, layout. Chromium and chromedriver come from ``apt-get install chromium
chromium-driver``.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench import harness
from bench.b5_paging import fill_contacts

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 120

# Runs in the page: change the address, wait for the page's content, read both clocks.
VISIT = """
const [hash, selector, done] = arguments;
performance.clearResourceTimings();
const started = performance.now();
location.hash = hash;
function check() {
  const view = document.querySelector("#view");
  if (document.querySelector(selector) && !view.hasAttribute("aria-busy")) {
    const shown = performance.now();
    const calls = performance.getEntriesByType("resource")
      .filter((entry) => entry.name.includes("/campaign/api/") && entry.startTime >= started);
    done({
      page: shown - started,
      api: Math.max(...calls.map((e) => e.responseEnd))
        - Math.min(...calls.map((e) => e.startTime)),
      calls: calls.length,
    });
  } else {
    requestAnimationFrame(check);
  }
}
requestAnimationFrame(check);
"""


def browser() -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,800"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def make_lists(api: harness.Api, count: int) -> None:
    """``count`` lists through the API, as a bot that has been used a while would have."""
    started = time.perf_counter()
    for number in range(count):
        api.create_list(f"Bench {number:05d}")
    harness.log(f"created {count:,} lists in {time.perf_counter() - started:.1f} s")


def sign_in(driver: Any, base_url: str, app: dict[str, str], bot: str) -> None:
    driver.get(f"{base_url}/console")
    wait = WebDriverWait(driver, WAIT_SECONDS)
    wait.until(lambda d: d.find_element(By.ID, "signin-form").is_displayed())
    for field_id, value in (("client-id", app["clientId"]), ("client-secret", app["clientSecret"]),
                            ("bot", bot)):  # fmt: skip
        field = driver.find_element(By.ID, field_id)
        field.clear()
        field.send_keys(value)
    driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lists tbody tr[data-id]"))


def visit(driver: Any, hash_: str, selector: str) -> dict[str, float]:
    # Leave for another page first, so that the content waited for is the new visit's own.
    driver.execute_async_script(VISIT, "#/trash", "#view h1")
    timings: dict[str, float] = driver.execute_async_script(VISIT, hash_, selector)
    return timings


def ms(value: float) -> str:
    return f"{value:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--lists", type=int, default=5_000, help="lists of the bot")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts in one list")
    parser.add_argument("--visits", type=int, default=20, help="timed visits of each page")
    args = parser.parse_args(argv)
    harness.handle_signals()
    report = harness.Report("b8-console", "B8 — console pages", args.database, args.contacts)

    with harness.scratch_database(args.database) as db, harness.serve(db) as server:
        app = json.loads(harness.cli(db, "apps", "create", "--name", "console", "--json"))
        bot = f"st-{uuid.uuid4()}"
        token = harness.cli(
            db, "token", "--client-id", app["clientId"], "--client-secret", app["clientSecret"],
            "--sub", "bench", "--expires-in", "0",
        ).strip()  # fmt: skip
        headers = {"auth": token, "iid": bot, "accountId": app["accountId"]}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=600) as http:
            api = harness.Api(http, bot, app["accountId"])
            big = api.create_list("Bench big")
            started = time.perf_counter()
            fill_contacts(db, api.account_id, big, args.contacts)
            harness.log(
                f"filled {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s"
            )
            make_lists(api, args.lists - 1)

        driver = browser()
        try:
            sign_in(driver, server.base_url, app, bot)
            pages = {
                "lists page (50 of the bot's lists)": ("#/lists", "#lists tbody tr[data-id]"),
                "list page (its facts, first 50 contacts, zones chart)": (
                    f"#/lists/{big}",
                    "#contacts tbody tr[data-id]",
                ),
            }
            for _ in range(3):  # warm-up: caches, the JIT, connections
                for hash_, selector in pages.values():
                    visit(driver, hash_, selector)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
            for _ in range(args.visits):  # interleaved, so both see the same noise
                for name, (hash_, selector) in pages.items():
                    results[name].append(visit(driver, hash_, selector))
        finally:
            driver.quit()

    report.add("size", f"{args.lists:,} lists; the big list holds {args.contacts:,} contacts")
    report.add("visits", f"{args.visits} of each page, interleaved, after 3 warm-up rounds")
    for name, visits in results.items():
        page = statistics.median(item["page"] for item in visits)
        api_time = statistics.median(item["api"] for item in visits)
        calls = int(statistics.median(item["calls"] for item in visits))
        report.add(f"{name}: page / API p50 ({calls} calls)", f"{ms(page)} / {ms(api_time)}")
        report.add(f"**{name}: ratio (page / API)**", f"**{harness.ratio(page, api_time)}**")
    report.add("target", "page ≤ 2× the API calls it makes")
    report.notes.append(
        "Timed in the page (performance.now and Resource Timing) by Chromium "
        f"{driver.capabilities.get('browserVersion', '?')}, headless, 1280×800."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
