"""B1, import throughput: a generated CSV uploaded through the API, timed until its job completes.

The baseline, in the same run: the contacts the import stored (already normalised), loaded with
the database's own bulk path into a scratch table of the same shape (PostgreSQL: psql \\copy;
SQLite: executemany in one transaction, in a separate file). Ratio = our rate / baseline rate.

With ``--against COMMIT`` the same benchmark of that older commit runs next, from a checkout and
virtual environment of its own (bench/against.py), on the file its generator writes from the
same seed and row count (the same file while bench/generate.py is unchanged), and the report puts
its rate beside ours.

    python -m bench.b1_import --database postgresql --rows 1000000 --against cdd46b3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import against, generate, harness


@dataclass
class Upload:
    rows: int
    upload_seconds: float  # until the route answered (the file is stored and the job queued)
    total_seconds: float  # until the job completed
    job: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.rows / self.total_seconds


def upload_and_wait(api: harness.Api, list_id: str, csv_path: Path, rows: int) -> Upload:
    """Upload ``csv_path`` as multipart (streamed from disk) and wait for its job."""
    start = time.time()
    with csv_path.open("rb") as file:
        answer = api.check(
            api.http.post(
                f"{api.prefix}/contactList/{list_id}/upload",
                files={"file": (csv_path.name, file, "text/csv")},
            )
        )
    uploaded = time.time()
    job = api.wait_job(answer["jobId"])
    done = harness.finished_at(job)
    if job["processed"] != rows:
        raise RuntimeError(f"the job processed {job['processed']} rows of {rows}: {job}")
    return Upload(rows, uploaded - start, done - start, job)


def job_lines(report: harness.Report, job: dict[str, Any]) -> None:
    report.add(
        "job counts",
        f"{job['processed']:,} processed, {job['inserted']:,} inserted, "
        f"{job['duplicates']:,} duplicates, {job['invalid']:,} invalid",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.argument_parser(__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts in the CSV")
    harness.add_baseline_arguments(parser)
    parser.add_argument(
        "--profile", type=Path, help="record the server with py-spy into this SVG (or .json)"
    )
    parser.add_argument(
        "--against",
        metavar="COMMIT",
        help="then run this benchmark of an older commit on the same file, and compare",
    )
    return parser.parse_args(argv)


def older_rate(args: argparse.Namespace) -> tuple[float, float]:
    """The older commit's (rate, baseline rate) on the same file and database."""
    same_file = ["--database", args.database, "--rows", str(args.rows), "--seed", str(args.seed)]
    repeats = ["--baseline-repeats", str(args.baseline_repeats)]
    with against.older_checkout(args.against) as checkout, tempfile.TemporaryDirectory() as out:
        report = checkout.run_bench("bench.b1_import", [*same_file, *repeats], Path(out))
        return (
            against.rate_of(against.report_value(report, "ours (file rows / s)")),
            against.rate_of(against.report_value(report, "baseline (median)")),
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.handle_signals()
    with harness.scratch_database(args.database) as db:
        csv_path = db.workdir / "contacts.csv"
        counts = generate.write_csv(csv_path, rows=args.rows, seed=args.seed)
        harness.log(f"B1 {args.database}: {counts.rows:,} rows, {counts.bytes:,} bytes")
        report = harness.Report("b1-import", "B1 — import throughput", args.database, counts.rows)
        with harness.serve(db) as server, harness.api_client(db, server) as api:
            list_id = api.create_list("bench b1")
            autovacuum = db.kind == "postgresql" and harness.autovacuum_is_on(db)
            with harness.profiled(server, args.profile), harness.analyzing(db, args.analyze_every):
                ours = upload_and_wait(api, list_id, csv_path, counts.rows)
            harness.log(f"ours: {ours.total_seconds:.1f} s, {harness.rate(ours.rate)}")
            baseline = harness.bulk_baseline(db, api.account_id, list_id, args.baseline_repeats)
        harness.log(f"baseline: {harness.rate(baseline.median_rate)}")
    older = older_rate(args) if args.against else None
    if args.database == "postgresql":
        report.add(
            "statistics during the import",
            f"server autovacuum {'on' if autovacuum else 'off'}; "
            + (
                f"bench ran ANALYZE contact every {args.analyze_every:g} s"
                if args.analyze_every
                else "no ANALYZE by the bench"
            ),
        )
    report.add("file", f"{counts.bytes / 2**20:,.1f} MiB CSV, seed {args.seed}")
    job_lines(report, ours.job)
    report.add("ours: upload answered after", f"{ours.upload_seconds:.2f} s")
    report.add("ours: job completed after", f"{ours.total_seconds:.2f} s")
    report.add("**ours (file rows / s)**", f"**{harness.rate(ours.rate)}**")
    report.add(
        "baseline: bulk load of the stored rows",
        f"{baseline.rows:,} rows in {harness.seconds_list(baseline.seconds)} s",
    )
    report.add("**baseline (median)**", f"**{harness.rate(baseline.median_rate)}**")
    report.add("**ratio ours / baseline**", f"**{harness.ratio(ours.rate, baseline.median_rate)}**")
    if older is not None:
        older_rate_value, older_baseline = older
        report.add(
            f"{args.against}, run next on the same file: rate (its baseline)",
            f"{harness.rate(older_rate_value)} ({harness.rate(older_baseline)})",
        )
        report.add(
            f"**ours / {args.against}**", f"**{harness.ratio(ours.rate, older_rate_value)}**"
        )
    report.add(
        "target",
        "≥ 100,000/s on PostgreSQL, ≥ 60,000/s on SQLite; ratio ≥ 0.35",
    )
    report.notes.append(
        "Our time runs from the start of the multipart upload to the job's `finishedAt`; "
        "our rate counts every data row of the file (invalid and duplicate ones included), "
        "the baseline's the rows it loads."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
