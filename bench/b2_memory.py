"""B2, import memory: B1's import from a large CSV (~1 GB) while sampling the server's memory.

The server's own peak comes from the kernel (VmHWM in /proc/<pid>/status: exact, not sampled).
The server also spawns normalisation worker processes (multiprocessing, spawn); their peaks are
read the same way, and the total resident size of the server and all its descendants is sampled
every --interval seconds, so the report gives both "the server" and "the server with children".

    python -m bench.b2_memory --database sqlite --size 1000M
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from bench import generate, harness
from bench.b1_import import job_lines, upload_and_wait

MIB = 2**20


def _status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB; empty once it has gone."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return values


@dataclass
class MemorySampler:
    """Samples a process tree in a thread until stopped."""

    pid: int
    interval: float
    peak_hwm_kib: dict[int, int] = field(default_factory=dict)  # per process, kernel's own peak
    peak_total_rss_kib: int = 0  # the largest sum of VmRSS over the tree seen in one sample
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        total = 0
        for pid in [self.pid, *harness.descendants(self.pid)]:
            status = _status_kib(pid)
            if not status:
                continue
            total += status.get("VmRSS", 0)
            self.peak_hwm_kib[pid] = max(self.peak_hwm_kib.get(pid, 0), status.get("VmHWM", 0))
        self.peak_total_rss_kib = max(self.peak_total_rss_kib, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    @property
    def server_peak_mib(self) -> float:
        return self.peak_hwm_kib.get(self.pid, 0) / 1024

    @property
    def children_peaks_mib(self) -> list[float]:
        return [kib / 1024 for pid, kib in sorted(self.peak_hwm_kib.items()) if pid != self.pid]


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__)
    parser.add_argument(
        "--size",
        type=generate.parse_size,
        default=generate.parse_size("1000M"),
        help="CSV size (default 1000M: 1 GB, under the service's 1 GiB upload limit)",
    )
    parser.add_argument("--interval", type=float, default=0.2, help="sampling period, seconds")
    args = parser.parse_args(argv)
    harness.handle_signals()

    with harness.scratch_database(args.database) as db:
        csv_path = db.workdir / "contacts.csv"
        counts = generate.write_csv(csv_path, size=args.size, seed=args.seed)
        harness.log(f"B2 {args.database}: {counts.rows:,} rows, {counts.bytes / MIB:,.0f} MiB")
        report = harness.Report("b2-memory", "B2 — import memory", args.database, counts.rows)
        with harness.serve(db) as server, harness.api_client(db, server) as api:
            list_id = api.create_list("bench b2")
            idle = _status_kib(server.pid).get("VmRSS", 0) / 1024
            with MemorySampler(server.pid, args.interval) as sampler:
                ours = upload_and_wait(api, list_id, csv_path, counts.rows)
        csv_path.unlink()
    children = sampler.children_peaks_mib
    harness.log(f"server peak {sampler.server_peak_mib:.0f} MiB, children {children}")
    report.add(
        "file", f"{counts.bytes / MIB:,.0f} MiB CSV ({counts.bytes:,} bytes), seed {args.seed}"
    )
    job_lines(report, ours.job)
    report.add(
        "import time (context)",
        f"{ours.total_seconds:,.1f} s, {harness.rate(ours.rate)} "
        f"(upload answered after {ours.upload_seconds:.1f} s)",
    )
    report.add("server RSS when idle, before the upload", f"{idle:,.0f} MiB")
    report.add("**server peak RSS (VmHWM)**", f"**{sampler.server_peak_mib:,.0f} MiB**")
    report.add(
        "children peak RSS (VmHWM each)",
        ", ".join(f"{value:,.0f} MiB" for value in children) or "none",
    )
    report.add(
        "server + children, sum of peaks",
        f"{sampler.server_peak_mib + sum(children):,.0f} MiB",
    )
    report.add(
        f"server + children, largest sampled total (every {args.interval} s)",
        f"{sampler.peak_total_rss_kib / 1024:,.0f} MiB",
    )
    report.add("target", "server peak RSS ≤ 300 MB, whatever the file size")
    report.notes.append(
        "Children are the server's descendants: the normalisation pool (spawned) and "
        "multiprocessing's resource tracker. The sum of peaks is an upper bound; the sampled "
        f"total is what was resident at once ({sampler.samples} samples)."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
