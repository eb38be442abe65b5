"""What the benchmarks share: a scratch database, a real ``contactlists serve``, an API client,
the bulk-load baseline, and the Markdown report.

Everything the service does is reached the way an operator and a client reach it: the CLI
(``apps create --json``, ``token``) and HTTP. Only the baseline and B5's bulk fill talk to the
database directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
# BENCH_RESULTS_DIR: somewhere else, e.g. for trying a change without touching the real reports.
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or REPO / "bench" / "results")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
CONTACT_COLUMNS = (
    "account_id", "list_id", "position", "id", "phone", "first_name", "last_name", "time_zone",
    "unique_id", "contact_priority", "fields", "created_at", "updated_at",
)  # fmt: skip
READY_TIMEOUT = 60.0
# Polls cost the server a request each (token check, a query): a slow poll keeps them out of the
# measurement, and the end time is read from the job's own finishedAt, so it costs no precision.
JOB_POLL_SECONDS = 0.5


def argument_parser(doc: str | None, *, seed: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark has: the database, and (for generated data) the seed."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="default sqlite"
    )
    if seed:
        parser.add_argument("--seed", type=int, default=1, help="generator seed")
    return parser


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of benchmarks that time the bulk-load baseline beside an import."""
    parser.add_argument(
        "--baseline-repeats", type=int, default=3, help="bulk loads to time (median reported)"
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        help="PostgreSQL: ANALYZE contact every N seconds during the import, as autovacuum "
        "would (for servers with autovacuum off; default 0: never)",
    )


def handle_signals() -> None:
    """Let SIGTERM and SIGINT unwind (servers stopped, scratch databases dropped).

    A script started in the background by a shell inherits SIGINT ignored, and SIGTERM would
    end it at once without cleaning up; both become a normal exit here.
    """

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- databases


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str  # as contactlists takes it (sqlite:///… or postgresql://…)
    workdir: Path

    @property
    def sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")

    def psql_url(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(False)


def _pg_admin(server_url: str, statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def scratch_database(kind: str, keep: bool = False) -> Iterator[Database]:
    """A new, empty database of ``kind`` and a work directory, both removed afterwards.

    PostgreSQL: a fresh database on CONTACTLISTS_BENCH_DATABASE_URL (default the local server).
    """
    with tempfile.TemporaryDirectory(prefix="contactlists-bench-") as tmp:
        workdir = Path(tmp)
        if kind == "sqlite":
            yield Database(kind, f"sqlite:///{workdir / 'bench.db'}", workdir)
            return
        server = os.environ.get("CONTACTLISTS_BENCH_DATABASE_URL", DEFAULT_POSTGRES)
        name = f"contactlists_bench_{secrets.token_hex(4)}"
        _pg_admin(server, f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        try:
            yield Database(kind, url, workdir)
        finally:
            if not keep:
                _pg_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def autovacuum_is_on(db: Database) -> bool:
    done = subprocess.run(
        ["psql", "-X", "-At", "-d", db.psql_url(), "-c", "SHOW autovacuum"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() == "on"


@contextmanager
def analyzing(db: Database, every: float) -> Iterator[None]:
    """On PostgreSQL, ``ANALYZE contact`` every ``every`` seconds meanwhile (0: never).

    Stands in for autovacuum's analyze on a server that has autovacuum off (as the shared one
    here has): without table statistics the planner's choices for the import's duplicate
    lookup differ from a normal server's. See docs/BENCHMARKS.md.
    """
    if db.kind != "postgresql" or every <= 0:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            _psql(db, "ANALYZE contact")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------- the server and the CLI


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _service_env(db: Database, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTLISTS_")}
    env |= {
        "CONTACTLISTS_DATABASE_URL": db.url,
        "CONTACTLISTS_DATA_DIR": str(db.workdir / "data"),
        "CONTACTLISTS_LOG_LEVEL": "WARNING",  # no access log: one line per request is noise
        "PYTHONUNBUFFERED": "1",
    }
    return env | (extra or {})


def cli(db: Database, *args: str) -> str:
    """Run ``contactlists ARGS`` against the database; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "contactlists", *args],
        env=_service_env(db),
        cwd=db.workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"contactlists {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, from /proc (no package needed)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


@contextmanager
def serve(
    db: Database, extra_env: dict[str, str] | None = None, log_name: str = "serve.log"
) -> Iterator[Server]:
    """``contactlists serve`` on a free port, ready (``/readyz``); terminated on the way out.

    ``CONTACTLISTS_PROCESSES`` is 1 unless ``extra_env`` says otherwise (PostgreSQL's default
    is one per core, which would make every benchmark a multi-process one).
    """
    port = free_port()
    log_path = db.workdir / log_name
    extra_env = {"CONTACTLISTS_PROCESSES": "1", **(extra_env or {})}
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "contactlists", "serve", "--port", str(port)],
            env=_service_env(db, extra_env),
            cwd=db.workdir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            children = descendants(process.pid)
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                for child in children:  # the normalisation pool, orphaned by the kill
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(base_url=server.base_url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"serve exited:\n{server.log_path.read_text()}")
            try:
                if http.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"serve not ready after {READY_TIMEOUT} s:\n{server.log_path.read_text()}")


@contextmanager
def profiled(server: Server, out: Path | None) -> Iterator[None]:
    """With ``out``, record the server and its worker processes with py-spy meanwhile.

    py-spy is not a dependency: it is found on PATH or in $PY_SPY; the profile is an SVG flame
    graph (or speedscope JSON when ``out`` ends in .json).
    """
    if out is None:
        yield
        return
    binary = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if binary is None:
        raise RuntimeError("--profile needs py-spy on PATH or in $PY_SPY")
    kind = "speedscope" if out.suffix == ".json" else "flamegraph"
    recorder = subprocess.Popen(
        [binary, "record", "--pid", str(server.pid), "--subprocesses", "--rate", "50",
         "--format", kind, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # py-spy attaches
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=120)
        log(f"profile written to {out}")


# ---------------------------------------------------------------- the API


@dataclass
class Api:
    """A client of one app on one bot, with Kore.ai's headers (auth, iid, accountId)."""

    http: httpx.Client
    bot: str
    account_id: str

    @property
    def prefix(self) -> str:
        return f"/campaign/api/v2/public/{self.bot}/campaign"

    def check(self, response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise RuntimeError(f"{response.request.url} → {response.status_code}: {response.text}")
        return response.json()

    def create_list(self, name: str) -> str:
        body = self.check(
            self.http.post(f"{self.prefix}/contactList/createContactList", json={"name": name})
        )
        list_id: str = body["data"]["_id"]
        return list_id

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.check(self.http.get(f"{self.prefix}/jobs/{job_id}"))["data"]
        return job

    def wait_job(self, job_id: str, timeout: float = 6 * 3600) -> dict[str, Any]:
        """Poll the job until it has finished; the job. Fails unless it completed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] in ("completed", "failed", "cancelled"):
                if job["state"] != "completed":
                    raise RuntimeError(f"job {job_id} ended {job['state']}: {job}")
                return job
            time.sleep(JOB_POLL_SECONDS)
        raise RuntimeError(f"job {job_id} still running after {timeout} s")


def finished_at(job: dict[str, Any]) -> float:
    """The job's finishedAt as a time.time() value (the server runs on this machine's clock)."""
    return dt.datetime.fromisoformat(job["finishedAt"]).timestamp()


@contextmanager
def api_client(db: Database, server: Server) -> Iterator[Api]:
    """A new app (``apps create --json``) and its token (``token``), as an operator makes them."""
    app = json.loads(cli(db, "apps", "create", "--name", "bench", "--json"))
    token = cli(
        db,
        "token",
        "--client-id",
        app["clientId"],
        "--client-secret",
        app["clientSecret"],
        "--sub",
        "bench",
        "--expires-in",
        "0",
    ).strip()
    bot = f"st-{uuid.uuid4()}"
    headers = {"auth": token, "iid": bot, "accountId": app["accountId"]}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=3600.0) as http:
        yield Api(http, bot, app["accountId"])


# ---------------------------------------------------------------- the bulk-load baseline


@dataclass
class Baseline:
    rows: int
    seconds: list[float]

    @property
    def best_rate(self) -> float:
        return self.rows / min(self.seconds)

    @property
    def median_rate(self) -> float:
        return self.rows / statistics.median(self.seconds)


def bulk_baseline(db: Database, account_id: str, list_id: str, repeats: int = 3) -> Baseline:
    """Load the contacts our import stored, already normalised, with the database's bulk path.

    The rows are the list's own (same values, same count), loaded into a scratch table of the
    same shape (columns, primary key and indexes; no foreign key): PostgreSQL with psql's
    ``\\copy`` from a CSV file; SQLite with ``executemany`` in one transaction into a table in a
    separate file. Only the load is timed; it is repeated ``repeats`` times on an empty table.
    """
    if db.kind == "postgresql":
        return _postgres_baseline(db, account_id, list_id, repeats)
    return _sqlite_baseline(db, account_id, list_id, repeats)


def _psql(db: Database, command: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.psql_url(), "-c", command],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _postgres_baseline(db: Database, account_id: str, list_id: str, repeats: int) -> Baseline:
    source = db.workdir / "baseline.csv"
    columns = ", ".join(CONTACT_COLUMNS)
    _psql(
        db,
        f"\\copy (SELECT {columns} FROM contact WHERE account_id = '{account_id}' "
        f"AND list_id = '{list_id}' ORDER BY position) TO '{source}' CSV",
    )
    rows = sum(1 for _ in source.open("rb"))
    seconds: list[float] = []
    for _ in range(repeats):
        _psql(db, "DROP TABLE IF EXISTS bench_baseline")
        _psql(db, "CREATE TABLE bench_baseline (LIKE contact INCLUDING ALL)")
        _psql(db, "CHECKPOINT")
        start = time.perf_counter()
        _psql(db, f"\\copy bench_baseline ({columns}) FROM '{source}' CSV")
        seconds.append(time.perf_counter() - start)
    _psql(db, "DROP TABLE IF EXISTS bench_baseline")
    source.unlink()
    return Baseline(rows, seconds)


def _sqlite_baseline(db: Database, account_id: str, list_id: str, repeats: int) -> Baseline:
    with sqlite3.connect(db.sqlite_path) as source:
        schema = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'contact' AND sql IS NOT NULL "
                "ORDER BY type DESC"  # the table before its indexes
            )
        ]
        records = source.execute(
            f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contact "
            "WHERE account_id = ? AND list_id = ? ORDER BY position",
            (account_id, list_id),
        ).fetchall()
    placeholders = ", ".join("?" for _ in CONTACT_COLUMNS)
    seconds: list[float] = []
    for attempt in range(repeats):
        path = db.workdir / f"baseline-{attempt}.db"
        target = sqlite3.connect(path, isolation_level=None)
        try:
            # The service's own settings (db/engine.py), less foreign keys: there is no list here.
            target.execute("PRAGMA journal_mode=WAL")
            target.execute("PRAGMA synchronous=NORMAL")
            for statement in schema:
                target.execute(statement)
            start = time.perf_counter()
            target.execute("BEGIN")
            target.executemany(
                f"INSERT INTO contact ({', '.join(CONTACT_COLUMNS)}) VALUES ({placeholders})",
                records,
            )
            target.execute("COMMIT")
            seconds.append(time.perf_counter() - start)
        finally:
            target.close()
        for leftover in db.workdir.glob(f"baseline-{attempt}.db*"):
            leftover.unlink()
    return Baseline(len(records), seconds)


# ---------------------------------------------------------------- reports


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    head = done.stdout.strip() or "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "src"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head}+dirty" if dirty else head


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


def load_average() -> str:
    """The 1-minute load average: on 2 shared cores, anything above 2 means we were competing."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


@dataclass
class Report:
    """One benchmark run as a Markdown table: what BENCHMARKS.md asks a report line to name."""

    name: str  # "b1-import"
    title: str
    database: str
    rows: int
    lines: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_at_start: str = field(default_factory=load_average)
    # Taken when the run starts: the server runs the code of that moment, not of the report's.
    commit: str = field(default_factory=commit)

    def add(self, what: str, value: object) -> None:
        self.lines.append((what, str(value)))

    def write(self) -> Path:
        today = dt.datetime.now(dt.UTC)
        RESULTS.mkdir(parents=True, exist_ok=True)
        # The size is in the name too, so that `make bench` (small) keeps full-size reports.
        path = RESULTS / f"{self.name}-{self.database}-{today:%Y-%m-%d}-{self.rows}rows.md"
        head = [
            ("date", f"{today:%Y-%m-%d %H:%M} UTC"),
            ("commit", self.commit),
            ("machine", machine()),
            ("database", self.database),
            ("rows", f"{self.rows:,}"),
            ("load average (1 min) at start / end", f"{self.load_at_start} / {load_average()}"),
        ]
        body = [f"# {self.title}", "", "| what | value |", "|---|---|"]
        body += [f"| {what} | {value} |" for what, value in [*head, *self.lines]]
        if self.notes:
            body += ["", *(f"- {note}" for note in self.notes)]
        path.write_text("\n".join(body) + "\n")
        print("\n".join(body))
        log(f"wrote {path}")
        return path


def rate(value: float) -> str:
    return f"{value:,.0f}/s"


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.3f}"


def seconds_list(values: Sequence[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)
