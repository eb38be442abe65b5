"""B9, filtered deep paging: getAllContacts with filters, the page after position 900,000 of a
1,000,000-contact list (by the filters' own cursor) against the first page under the same
filters, measured interleaved in the same run, for each kind of filter.

The list is filled with SQL as in B5 (outside what is measured), with values that give each
filter a known share of the list:

- firstName `Name00` … `Name19` (n mod 20), so `search=name07` matches 5%, through the search
  keys' indexes;
- uniqueId `U<n>`, so `search=u9000` matches 111 contacts (U9000, U90000…, U900000…): a rare
  prefix, answered from the uniqueId key's index;
- custom field `plan` gold/silver/bronze (n mod 3) and four time zones (n mod 4), so
  `fields.plan=gold&timeZone=America/Chicago` matches 1 in 12, read from each row (no index);
- created one second apart, for `createdAfter` combined with the others.

The deep cursor is built as the service builds it (contacts.service.encode_cursor with the
filters), instead of walking the pages before it.

    python -m bench.b9_filtered_paging --database postgresql --rows 1000000
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import httpx

from bench import fill, harness
from bench.b5_paging import ms, percentile, timed
from contactlists.contacts.search import RawFilters, read_filters
from contactlists.contacts.service import encode_cursor

BASE = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
PLANS = ("gold", "silver", "bronze")


def scenarios(rows: int) -> dict[str, dict[str, str]]:
    after = (BASE + timedelta(seconds=rows // 10)).isoformat()
    return {
        "no filter (as B5)": {},
        "search, 5% (indexed keys)": {"search": "name07"},
        "search, rare uniqueId prefix (111 matches at 1M)": {"search": "u9000"},
        "fields.plan + timeZone, 1 in 12 (read per row)": {
            "fields.plan": "gold",
            "timeZone": "America/Chicago",
        },
        "search + fields.plan + createdAfter, 1 in 60": {
            "search": "NAME07",
            "fields.plan": "gold",
            "createdAfter": after,
        },
    }


def raw(params: dict[str, str]) -> RawFilters:
    fields = tuple(
        (name.removeprefix("fields."), value)
        for name, value in params.items()
        if name.startswith("fields.")
    )
    return RawFilters(
        search=params.get("search"),
        time_zone=params.get("timeZone"),
        created_after=params.get("createdAfter"),
        fields=fields,
    )


_ZONES_POSTGRES = ", ".join(f"'{zone}'" for zone in ZONES)
_PLANS_POSTGRES = ", ".join(f"'{plan}'" for plan in PLANS)
_ZONES_SQLITE = " ".join(f"WHEN {i} THEN '{zone}'" for i, zone in enumerate(ZONES))
_PLANS_SQLITE = " ".join(f"WHEN {i} THEN '{plan}'" for i, plan in enumerate(PLANS))
_NAME = ("lpad((n % 20)::text, 2, '0')", "substr('0' || (n % 20), -2, 2)")
CONTACTS: dict[str, fill.Expression] = {
    "phone": ("'+1212' || (2000000 + n)::text", "'+1212' || (2000000 + n)"),
    "first_name": ("'Name' || " + _NAME[0], "'Name' || " + _NAME[1]),
    "last_name": "'Last'",
    "time_zone": (f"(ARRAY[{_ZONES_POSTGRES}])[n % 4 + 1]", f"CASE n % 4 {_ZONES_SQLITE} END"),
    "unique_id": "'U' || n",
    "contact_priority": "NULL",
    "fields": (
        f"json_build_object('plan', (ARRAY[{_PLANS_POSTGRES}])[n % 3 + 1])",
        f"json_object('plan', CASE n % 3 {_PLANS_SQLITE} END)",
    ),
    "created_at": (
        "$4::timestamptz + n * interval '1 second'",
        "strftime('%Y-%m-%d %H:%M:%S.000000', :base, '+' || n || ' seconds')",
    ),
    "updated_at": ("now()", "strftime('%Y-%m-%d %H:%M:%S.000000', 'now')"),
    "first_key": ("'name' || " + _NAME[0], "'name' || " + _NAME[1]),
    "last_key": "'last'",
    "unique_key": "'u' || n",
}


def fill_contacts(db: harness.Database, account_id: str, list_id: str, rows: int) -> None:
    base = BASE.strftime("%Y-%m-%d %H:%M:%S")
    fill.fill(db, account_id, list_id, rows, CONTACTS, (BASE,), {"base": base})


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts in the list")
    parser.add_argument("--depth", type=float, default=0.9, help="deep page at this share")
    parser.add_argument("--requests", type=int, default=30, help="timed requests of each kind")
    parser.add_argument("--limit", type=int, default=50, help="page size")
    args = parser.parse_args(argv)
    harness.handle_signals()
    depth = int(args.rows * args.depth)
    report = harness.Report(
        "b9-filtered-paging", "B9 — filtered deep paging", args.database, args.rows
    )

    with (
        harness.scratch_database(args.database) as db,
        harness.serve(db) as server,
        harness.api_client(db, server) as api,
    ):
        list_id = api.create_list("bench b8")
        fill_contacts(db, api.account_id, list_id, args.rows)
        harness.log(f"filled {args.rows:,} contacts")
        url = f"{api.prefix}/contactList/{list_id}/getAllContacts"
        for title, filters in scenarios(args.rows).items():
            cursor = encode_cursor(depth, read_filters(raw(filters), "US"))
            first_params = {**filters, "limit": str(args.limit)}
            deep_params = {**first_params, "cursor": cursor}
            deep = api.check(api.http.get(url, params=deep_params))["data"]["results"]
            if deep and int(deep[0]["uniqueId"][1:]) <= depth:
                raise RuntimeError(f"{title}: the deep page starts at {deep[0]['uniqueId']}")

            def first_page(params: dict[str, str] = first_params) -> httpx.Response:
                return api.http.get(url, params=params)

            def deep_page(params: dict[str, str] = deep_params) -> httpx.Response:
                return api.http.get(url, params=params)

            for _ in range(3):  # warm-up
                timed(first_page)
                timed(deep_page)
            firsts: list[float] = []
            deeps: list[float] = []
            for _ in range(args.requests):  # interleaved, so both see the same noise
                firsts.append(timed(first_page))
                deeps.append(timed(deep_page))
            first_p50, deep_p50 = statistics.median(firsts), statistics.median(deeps)
            report.add(
                f"{title}: first / deep p50 (p99)",
                f"{ms(first_p50)} ({ms(percentile(firsts, 0.99))}) / "
                f"{ms(deep_p50)} ({ms(percentile(deeps, 0.99))})",
            )
            report.add(
                f"**{title}: ratio p50 (deep / first)**",
                f"**{harness.ratio(deep_p50, first_p50)}**",
            )
            harness.log(f"{title}: {ms(first_p50)} / {ms(deep_p50)}")

    report.add("page", f"limit={args.limit}; deep page after position {depth:,}, by cursor")
    report.add("requests", f"{args.requests} of each per filter, interleaved, after 3 warm-ups")
    report.add("target", "deep page ≤ 2× the first page's latency under the same filters")
    report.notes.append(
        "The list was filled with one INSERT … SELECT (search keys included) and its count and "
        "last position set directly; the cursors were built with contacts.service.encode_cursor."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
