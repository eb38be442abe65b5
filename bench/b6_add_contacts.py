"""B6, the addContacts API: --requests calls of --batch contacts each, back to back, timed from
the first request until every job has completed.

The baseline, in the same run, is B1's: the contacts these jobs stored, loaded with the
database's own bulk path. The report also sets our rate against the latest B1 report of the
same database in bench/results (another run: for context).

    python -m bench.b6_add_contacts --database postgresql --requests 100 --batch 10000
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from bench import generate, harness

ADD_CONTACTS = "/api/1.1/public/{bot}/campaign/contactList/addContacts"


def latest_b1_rate(database: str, rows: int) -> tuple[float, Path] | None:
    """Our rate in the newest B1 report of ``database``, of ``rows`` rows if there is one."""
    reports = sorted(
        harness.RESULTS.glob(f"b1-import-{database}-*.md"),
        key=lambda path: (path.name.endswith(f"-{rows}rows.md"), path.stat().st_mtime),
    )
    for path in reversed(reports):
        found = re.search(r"ours \(file rows / s\)\*\* \| \*\*([\d,]+)/s", path.read_text())
        if found:
            return float(found.group(1).replace(",", "")), path
    return None


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__)
    parser.add_argument("--requests", type=int, default=100, help="addContacts calls")
    parser.add_argument("--batch", type=int, default=10_000, help="contacts per call (≤ 10,000)")
    harness.add_baseline_arguments(parser)
    args = parser.parse_args(argv)
    harness.handle_signals()
    rows = args.requests * args.batch
    report = harness.Report("b6-add-contacts", "B6 — addContacts API", args.database, rows)

    with (
        harness.scratch_database(args.database) as db,
        harness.serve(db) as server,
        harness.api_client(db, server) as api,
    ):
        name = "bench b6"
        list_id = api.create_list(name)
        stream = generate.contacts(args.seed)
        # Bodies are made before the clock starts: the client's JSON is not what is measured.
        bodies = [
            json.dumps(
                {"contact_list_name": name, "data": generate.items(stream, args.batch)}
            ).encode()
            for _ in range(args.requests)
        ]
        harness.log(
            f"B6 {args.database}: {args.requests} × {args.batch:,} contacts, "
            f"{sum(map(len, bodies)) / 2**20:,.0f} MiB of JSON"
        )
        path = ADD_CONTACTS.format(bot=api.bot)
        headers = {"Content-Type": "application/json"}
        autovacuum = db.kind == "postgresql" and harness.autovacuum_is_on(db)
        with harness.analyzing(db, args.analyze_every):
            start = time.time()
            job_ids = [
                api.check(api.http.post(path, content=body, headers=headers))["jobId"]
                for body in bodies
            ]
            posted = time.time()
            jobs = [api.wait_job(job_id) for job_id in job_ids]
        end = max(harness.finished_at(job) for job in jobs)
        del bodies
        harness.log(f"ours: {end - start:.1f} s")
        baseline = harness.bulk_baseline(db, api.account_id, list_id, args.baseline_repeats)

    ours = rows / (end - start)
    if args.database == "postgresql":
        report.add(
            "statistics during the run",
            f"server autovacuum {'on' if autovacuum else 'off'}; "
            + (
                f"bench ran ANALYZE contact every {args.analyze_every:g} s"
                if args.analyze_every
                else "no ANALYZE by the bench"
            ),
        )
    report.add("calls", f"{args.requests} × {args.batch:,} contacts, back to back")
    report.add(
        "job counts (all jobs)",
        f"{sum(j['processed'] for j in jobs):,} processed, "
        f"{sum(j['inserted'] for j in jobs):,} inserted, "
        f"{sum(j['duplicates'] for j in jobs):,} duplicates, "
        f"{sum(j['invalid'] for j in jobs):,} invalid",
    )
    report.add("ours: all calls answered after", f"{posted - start:.2f} s")
    report.add("ours: last job completed after", f"{end - start:.2f} s")
    report.add("**ours (contacts / s)**", f"**{harness.rate(ours)}**")
    report.add(
        "baseline: bulk load of the stored rows",
        f"{baseline.rows:,} rows in {harness.seconds_list(baseline.seconds)} s",
    )
    report.add("**baseline (median)**", f"**{harness.rate(baseline.median_rate)}**")
    report.add("**ratio ours / baseline**", f"**{harness.ratio(ours, baseline.median_rate)}**")
    b1 = latest_b1_rate(args.database, rows)
    if b1 is not None:
        report.add(
            f"context: ratio to B1's rate ({b1[0]:,.0f}/s in {b1[1].name}, another run)",
            harness.ratio(ours, b1[0]),
        )
    report.add("target", "≥ 0.5 of B1's rate (B1 ≥ 0.35 of the baseline, so ≥ 0.175 of it)")
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
