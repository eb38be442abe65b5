"""B4, read throughput: GET contact list details with 64 concurrent clients, against a bare
endpoint of the same framework and server returning a constant JSON of the same size.

Both servers run side by side for the whole run: ``contactlists serve`` (authentication,
database, the list's wire shape) and ``bench.bare_server`` (FastAPI and uvicorn only, returning
the very document the list-details GET answered). The same client (``bench.loadgen``, in its
own process: 64 keep-alive connections, one request after another on each) loads one, then
the other, in alternating rounds so that both see the same noise; each gets ``--seconds`` in
all. The report gives both rates and their ratio, and each server's CPU time per request (its
whole process tree's, from /proc).

``--processes N`` (N > 1) adds a third server: ``serve --processes N`` on the same database,
loaded in the same rounds, so one process and N processes are compared on the same run (the
load generator stays one process of its own).

    python -m bench.b4_read --database postgresql --seconds 30 [--processes 2]
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import harness
from bench.bare_server import BARE_PATH


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes (a server and its API processes), those still alive."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]
    pids: list[int]  # the server's processes, whose CPU time is read around each round
    results: list[dict[str, Any]] = field(default_factory=list)
    cpu: float = 0.0

    @property
    def ok(self) -> int:
        return sum(int(result["ok"]) for result in self.results)

    @property
    def errors(self) -> int:
        return sum(int(result["errors"]) for result in self.results)

    @property
    def seconds(self) -> float:
        return sum(float(result["seconds"]) for result in self.results)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def cpu_per_request_ms(self) -> float:
        """Server CPU per answered request (warm-up included in both): contention aside."""
        answered = sum(int(result["ok"]) + int(result["warmup_ok"]) for result in self.results)
        return 1000 * self.cpu / answered

    def worst(self, key: str) -> float:
        return max(float(result[key]) for result in self.results)

    def median_of(self, key: str) -> float:
        values = sorted(float(result[key]) for result in self.results)
        return values[len(values) // 2]


def load(target: Target, connections: int, seconds: float, warmup: float) -> dict[str, Any]:
    """One round of ``bench.loadgen`` against ``target``, in its own process."""
    command = [
        sys.executable, "-m", "bench.loadgen", "--url", target.url,
        "--connections", str(connections), "--seconds", str(seconds), "--warmup", str(warmup),
    ]  # fmt: skip
    for name, value in target.headers.items():
        command += ["--header", f"{name}: {value}"]
    before = tree_cpu_seconds(target.pids)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=harness.REPO)
    target.cpu += tree_cpu_seconds(target.pids) - before
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    harness.log(
        f"{target.name}: {result['rate']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, non-200: {result['errors']}"
    )
    return result


@contextlib.contextmanager
def bare_server(workdir: Path, body: bytes) -> Iterator[tuple[str, int]]:
    """``bench.bare_server`` returning ``body`` on a free port; its base URL and pid."""
    port = harness.free_port()
    body_file = workdir / "bare-body.json"
    body_file.write_bytes(body)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_server", "--port", str(port), "--body", str(body_file)],
        cwd=harness.REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + harness.READY_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError("the bare server exited")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base_url + BARE_PATH, timeout=2.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the bare server did not start")
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per server")
    parser.add_argument("--connections", type=int, default=64, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per round")
    parser.add_argument("--profile", type=Path, help="record our server with py-spy meanwhile")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="also load `serve --processes N` (N > 1), beside one process",
    )
    args = parser.parse_args(argv)
    harness.handle_signals()
    # The list has no contacts: list details do not include them. The file name says how long.
    many = f"-{args.processes}processes" if args.processes > 1 else ""
    report = harness.Report(
        f"b4-read-{args.seconds:g}s{many}", "B4 — read throughput", args.database, 0
    )
    per_round = args.seconds / args.rounds

    with contextlib.ExitStack() as stack:
        db = stack.enter_context(harness.scratch_database(args.database))
        server = stack.enter_context(harness.serve(db))
        api = stack.enter_context(harness.api_client(db, server))
        list_id = api.create_list("bench b4")
        path = f"{api.prefix}/contactList/{list_id}"
        ours_answer = api.http.get(path)
        api.check(ours_answer)
        headers = {"auth": api.http.headers["auth"], "iid": api.bot, "accountId": api.account_id}
        bare_url, bare_pid = stack.enter_context(bare_server(db.workdir, ours_answer.content))
        bare_answer = httpx.get(bare_url + BARE_PATH)
        if bare_answer.json() != ours_answer.json():
            raise RuntimeError("the bare server does not answer the list's document")
        bare = Target("bare endpoint", bare_url + BARE_PATH, {}, [bare_pid])
        ours = Target(
            "list details (serve, 1 process)",
            server.base_url + path,
            headers,
            [server.pid, *harness.descendants(server.pid)],
        )
        targets = [ours, bare]
        if args.processes > 1:
            several = stack.enter_context(
                harness.serve(
                    db,
                    {"CONTACTLISTS_PROCESSES": str(args.processes)},
                    log_name="serve-processes.log",
                )
            )
            targets.insert(
                1,
                Target(
                    f"list details (serve --processes {args.processes})",
                    several.base_url + path,
                    headers,
                    [several.pid, *harness.descendants(several.pid)],
                ),
            )
        with harness.profiled(server, args.profile):
            for index in range(args.rounds):
                # Each round starts with the next server: all see the same noise.
                order = targets[index % len(targets) :] + targets[: index % len(targets)]
                for target in order:
                    target.results.append(load(target, args.connections, per_round, args.warmup))

    if any(target.errors for target in targets):
        raise RuntimeError("non-200 answers: " + ", ".join(f"{t.name} {t.errors}" for t in targets))
    report.add("request", "GET /campaign/api/v2/public/{bot}/campaign/contactList/{list_id}")
    report.add(
        "answer size (ours / bare)", f"{len(ours_answer.content)} / {len(bare_answer.content)} B"
    )
    report.add(
        "load",
        f"{args.connections} keep-alive connections (bench.loadgen, one process), "
        f"{args.rounds} rotating rounds of {per_round:.1f} s each per server, "
        f"{args.warmup:.0f} s warm-up per round",
    )
    for target in [bare, *[t for t in targets if t is not bare]]:
        role = "baseline" if target is bare else "ours"
        report.add(
            f"{role}: {target.name} requests/s",
            f"{target.rate:,.0f}/s ({target.ok:,} in {target.seconds:.0f} s; rounds: "
            + ", ".join(f"{result['rate']:,.0f}" for result in target.results)
            + ")",
        )
        report.add(
            f"{role}: latency p50 / p99 (median / worst round)",
            f"{target.median_of('p50_ms'):.1f} / {target.worst('p99_ms'):.1f} ms",
        )
        report.add(f"{role}: server CPU per request", f"{target.cpu_per_request_ms:.2f} ms")
        if target is not bare:
            report.add(
                f"**ratio ({target.name} / bare)**",
                f"**{harness.ratio(target.rate, bare.rate)}**",
            )
    report.add(
        "context: ratio of CPU per request (bare / ours, 1 process)",
        harness.ratio(bare.cpu_per_request_ms, ours.cpu_per_request_ms),
    )
    report.add(
        "target",
        "≤ 0.5 ms of server CPU per request; ≥ 0.3 of the bare endpoint's requests/s",
    )
    report.notes.append(
        "The servers run at once, the bare one a single uvicorn process with its defaults; "
        "`serve` also runs its job worker (idle: one poll every 0.5 s; with --processes, in "
        "one of them). The load generator and the servers share the machine's cores; a "
        "server's CPU counts all its processes."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
