"""B5, deep paging: getAllContacts at depth 900,000 of a 1,000,000-contact list, with `cursor`,
against the first page of the same list (the baseline, measured interleaved in the same run).

Two shortcuts, both outside what is measured:
- The list is filled directly with SQL (one INSERT … SELECT over a generated series), and its
  total_record_count and last_position are set to match, as the import would have left them.
  Importing a million contacts through the API is B1's business and would take minutes here.
- The deep cursor is built the way the service builds it (contacts.service.encode_cursor of the
  position before the page) instead of walking 18,000 pages to be handed it.

    python -m bench.b5_paging --database postgresql --rows 1000000
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import httpx

from bench import fill, harness
from contactlists.contacts.service import encode_cursor

FIELDS = '{"city": "Boston", "segment": "gold"}'


CONTACTS: dict[str, fill.Expression] = {
    "phone": ("'+1212' || (2000000 + n)::text", "'+1212' || (2000000 + n)"),
    "first_name": "'First'",
    "last_name": "'Last'",
    "time_zone": "'America/New_York'",
    "unique_id": "'U' || n",
    "contact_priority": "NULL",
    "fields": (f"'{FIELDS}'::json", ":fields"),
    "created_at": ("now()", ":now"),
    "updated_at": ("now()", ":now"),
}


def fill_contacts(db: harness.Database, account_id: str, list_id: str, rows: int) -> None:
    """The list's contacts: U1 … U<rows>, numbers +12122000001 …, the same two fields."""
    fill.fill(db, account_id, list_id, rows, CONTACTS, sqlite_params={"fields": FIELDS})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def timed(get: Callable[[], httpx.Response]) -> float:
    start = time.perf_counter()
    response = get()
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {response.text}")
    return elapsed


def ms(value: float) -> str:
    return f"{value * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts in the list")
    parser.add_argument("--depth", type=float, default=0.9, help="deep page at this share")
    parser.add_argument("--requests", type=int, default=50, help="timed requests of each kind")
    parser.add_argument("--limit", type=int, default=50, help="page size")
    parser.add_argument(
        "--offset-requests", type=int, default=5, help="requests by skip at depth (context)"
    )
    args = parser.parse_args(argv)
    harness.handle_signals()
    depth = int(args.rows * args.depth)
    report = harness.Report("b5-paging", "B5 — deep paging", args.database, args.rows)

    with (
        harness.scratch_database(args.database) as db,
        harness.serve(db) as server,
        harness.api_client(db, server) as api,
    ):
        list_id = api.create_list("bench b5")
        start = time.perf_counter()
        fill_contacts(db, api.account_id, list_id, args.rows)
        harness.log(f"filled {args.rows:,} contacts in {time.perf_counter() - start:.1f} s")

        url = f"{api.prefix}/contactList/{list_id}/getAllContacts"
        cursor = encode_cursor(depth)
        deep = api.check(api.http.get(url, params={"limit": args.limit, "cursor": cursor}))
        first_unique = deep["data"]["results"][0]["uniqueId"]
        if first_unique != f"U{depth + 1}":
            raise RuntimeError(f"the deep page starts at {first_unique}, not U{depth + 1}")

        def first_page() -> httpx.Response:
            return api.http.get(url, params={"limit": args.limit})

        def deep_page() -> httpx.Response:
            return api.http.get(url, params={"limit": args.limit, "cursor": cursor})

        def offset_page() -> httpx.Response:
            return api.http.get(url, params={"limit": args.limit, "skip": depth})

        for _ in range(5):  # warm-up: connections, caches, the token's app
            timed(first_page)
            timed(deep_page)
        firsts: list[float] = []
        deeps: list[float] = []
        for _ in range(args.requests):  # interleaved, so both see the same noise
            firsts.append(timed(first_page))
            deeps.append(timed(deep_page))
        offsets = [timed(offset_page) for _ in range(args.offset_requests)]

    first_p50, deep_p50 = statistics.median(firsts), statistics.median(deeps)
    first_p99, deep_p99 = percentile(firsts, 0.99), percentile(deeps, 0.99)
    report.add("page", f"limit={args.limit}; deep page after position {depth:,} (by cursor)")
    report.add("requests", f"{args.requests} of each, interleaved, after 5 warm-up pairs")
    report.add("baseline: first page p50 / p99", f"{ms(first_p50)} / {ms(first_p99)}")
    report.add("ours: cursor page at depth p50 / p99", f"{ms(deep_p50)} / {ms(deep_p99)}")
    report.add("**ratio p50 (deep / first)**", f"**{harness.ratio(deep_p50, first_p50)}**")
    report.add("**ratio p99 (deep / first)**", f"**{harness.ratio(deep_p99, first_p99)}**")
    if offsets:
        offset_p50 = statistics.median(offsets)
        report.add(
            f"context: skip={depth:,} (offset) p50, {len(offsets)} requests",
            f"{ms(offset_p50)} ({harness.ratio(offset_p50, first_p50)}× the first page)",
        )
    report.add("target", "deep page ≤ 2× the first page's latency")
    report.notes.append(
        "The list was filled with one INSERT … SELECT and its count and last position set "
        "directly; the cursor was built with contacts.service.encode_cursor (see the docstring)."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
