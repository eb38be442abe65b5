"""B7, dialing: 4 concurrent dialers call dialer/next (limit 100) and post outcomes on an
Active campaign of N contacts with an M-number DNC list, against a GET of a small list (the
baseline, measured in the same run). Every contact handed out is checked to be handed out once.

Shortcuts, outside what is measured:
- The contact list and the DNC list are filled directly with SQL (as in B5); every 100th
  contact's number is also on the DNC list, so the scrub has work to do.
- The first dialer/next admits the whole campaign into dialing records: it is timed and reported
  apart, not counted in the next latencies.
- The server's local calling hours are the whole day (CONTACTLISTS_LOCAL_CALLING_HOURS), so the
  run does not depend on the hour it is started at.

    python -m bench.b7_dialing --database postgresql --rows 1000000 --dnc 1000000
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from collections import Counter
from typing import Any

import httpx

from bench import fill, harness
from bench.b5_paging import fill_contacts, ms, percentile

DIALERS = 4
ALL_WEEK = {
    "frequency": "WEEKLY",
    "timezone": "America/New_York",
    "days": [
        {"day": day, "start": "12:00 AM", "end": "11:59 PM"}
        for day in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    ],
}
# DNC numbers: every 100th contact's number, the rest numbers no contact has.
DNC_PHONE = "CASE WHEN n % 100 = 0 THEN '+1212' || (2000000 + n) ELSE '+1646' || (2000000 + n) END"
DNC_PHONE_POSTGRES = DNC_PHONE.replace("(2000000 + n)", "(2000000 + n)::text")
DNC: dict[str, fill.Expression] = {
    "phone": (DNC_PHONE_POSTGRES, DNC_PHONE),
    "first_name": "NULL",
    "last_name": "NULL",
    "time_zone": "NULL",
    "unique_id": "NULL",
    "contact_priority": "NULL",
    "fields": ("'{}'::json", "'{}'"),
    "created_at": ("now()", ":now"),
    "updated_at": ("now()", ":now"),
}


def fill_dnc(db: harness.Database, account_id: str, list_id: str, rows: int) -> None:
    fill.fill(db, account_id, list_id, rows, DNC)


def timed(send: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.text}")
    return elapsed, response.json()


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--rows", type=int, default=10_000, help="contacts in the campaign")
    parser.add_argument("--dnc", type=int, default=None, help="numbers on the DNC list (=rows)")
    parser.add_argument("--requests", type=int, default=50, help="next calls per dialer")
    parser.add_argument("--summaries", type=int, default=10, help="timed summary calls")
    args = parser.parse_args(argv)
    harness.handle_signals()
    dnc_rows = args.dnc if args.dnc is not None else args.rows
    report = harness.Report("b7-dialing", "B7 — dialing", args.database, args.rows)
    env = {"CONTACTLISTS_LOCAL_CALLING_HOURS": "00:00-24:00"}

    with (
        harness.scratch_database(args.database) as db,
        harness.serve(db, env) as server,
        harness.api_client(db, server) as api,
    ):
        list_id = api.create_list("bench b7")
        small_id = api.create_list("bench b7 small")
        dnc_body = {"name": "bench b7 dnc", "listType": "dnc"}
        dnc_id = api.check(
            api.http.post(f"{api.prefix}/contactList/createContactList", json=dnc_body)
        )["data"]["_id"]
        start = time.perf_counter()
        fill_contacts(db, api.account_id, list_id, args.rows)
        fill_dnc(db, api.account_id, dnc_id, dnc_rows)
        harness.log(f"filled {args.rows:,} contacts, {dnc_rows:,} DNC numbers in "
                    f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        campaign = {
            "name": "bench b7", "description": "B7", "contactLists": ["bench b7"],
            "dncLists": {"name": "bench b7 dnc"}, "priority": "3", "dialingMode": "Progressive",
            "queue_name": "q", "campaignType": "voice",
            "dialingStrategy": {
                "callerId": {"phoneNumber": "+14155550123"}, "callingHours": ALL_WEEK,
                "dialingOrder": "FIFO", "maxAttemptsPerRecord": 3, "defaultRetryPeriod": 60,
                "maxRingTime": 30,
            },
        }  # fmt: skip
        created = api.check(
            api.http.post(api.prefix, params={"campaignType": "voice"}, json=campaign)
        )
        campaign_id = created["data"]["id"]
        api.check(
            api.http.post(
                f"{api.prefix}/{campaign_id}",
                params={"campaignType": "voice", "trigger": "play"},
                json={},
            )
        )
        next_url = f"{api.prefix}/{campaign_id}/dialer/next"
        outcome_url = f"{api.prefix}/{campaign_id}/dialer/outcome"
        summary_url = f"{api.prefix}/{campaign_id}/dialer/summary"
        small_url = f"{api.prefix}/contactList/{small_id}"

        admission, first = timed(
            lambda: api.http.post(next_url, json={"limit": 1, "dialerId": "warm-up"})
        )
        harness.log(f"first dialer/next (admits the campaign): {admission:.1f} s")
        handed: Counter[str] = Counter(c["contactId"] for c in first["data"]["contacts"])
        lock = threading.Lock()
        nexts: list[float] = []
        gets: list[float] = []
        dnc_handed: list[str] = []

        def dialer(name: str) -> None:
            with httpx.Client(
                base_url=server.base_url, headers=api.http.headers, timeout=3600.0
            ) as http:
                for _ in range(args.requests):
                    get_s, _ = timed(lambda: http.get(small_url))
                    next_s, body = timed(
                        lambda: http.post(next_url, json={"limit": 100, "dialerId": name})
                    )
                    contacts = body["data"]["contacts"]
                    results = [{"leaseId": c["leaseId"], "outcome": "completed"} for c in contacts]
                    if results:
                        timed(functools.partial(http.post, outcome_url, json={"results": results}))
                    with lock:
                        gets.append(get_s)
                        nexts.append(next_s)
                        handed.update(c["contactId"] for c in contacts)
                        dnc_handed.extend(
                            c["phoneNumber"]
                            for c in contacts
                            if (int(c["phoneNumber"][-7:]) - 2000000) % 100 == 0
                        )

        threads = [threading.Thread(target=dialer, args=(f"d{n}",)) for n in range(DIALERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        twice = sum(1 for count in handed.values() if count > 1)
        if twice or dnc_handed:
            raise RuntimeError(f"{twice} contacts handed out twice, {len(dnc_handed)} DNC")
        summaries = []
        for _ in range(args.summaries):
            get_s, _ = timed(lambda: api.http.get(small_url))
            summary_s, summary = timed(lambda: api.http.get(summary_url))
            gets.append(get_s)
            summaries.append(summary_s)

    get_p99, next_p99 = percentile(gets, 0.99), percentile(nexts, 0.99)
    summary_p99 = percentile(summaries, 0.99)
    report.add("DNC numbers", f"{dnc_rows:,} (every 100th contact's number among them)")
    report.add("dialers", f"{DIALERS} threads, {args.requests} next calls each (limit 100)")
    report.add("first next (admission of the campaign), not counted", f"{admission:.1f} s")
    report.add("handed out", f"{sum(handed.values()):,}; twice: {twice}; on DNC: 0")
    report.add("baseline: GET of a small list p50 / p99",
               f"{ms(statistics.median(gets))} / {ms(get_p99)}")  # fmt: skip
    report.add("ours: dialer/next p50 / p99", f"{ms(statistics.median(nexts))} / {ms(next_p99)}")
    report.add("**ratio next p99 / GET p99**", f"**{harness.ratio(next_p99, get_p99)}**")
    report.add("ours: dialer/summary p50 / p99",
               f"{ms(statistics.median(summaries))} / {ms(summary_p99)}")  # fmt: skip
    report.add("**ratio summary p99 / GET p99**", f"**{harness.ratio(summary_p99, get_p99)}**")
    report.add("summary", str(summary["data"]))
    report.add("target", "next p99 ≤ 3× GET p99 (flat in size); summary p99 ≤ 10× GET p99 at 1M")
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
