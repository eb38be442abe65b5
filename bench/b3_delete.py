"""B3, delete latency vs list size: DELETE lists of 0, 10k, 100k and 1M contacts while 8 clients
read other lists, against a GET of a small list on the same client in the same run (the baseline).

The server runs with CONTACTLISTS_TRASH_DAYS=0, so each delete's purge job is due at once and the
in-process worker removes the contacts in batches right after the DELETE has answered. Measured:

1. DELETE latency per list size, p50 / p99, against GETs of a small list made just before each
   DELETE (same client, interleaved): ratio of the p99s, per size.
2. The 8 readers' latency (each its own list, alternating GET list details and the first page of
   getAllContacts) in a quiet window just before each of the largest deletes, against the window
   from that DELETE until its purge has finished (the list's row is gone, read in the database).
3. How long each purge of the largest lists took; and at the end, that no contact and no list row
   of any deleted list is left.

Each DELETE starts with no purge running: the script waits for the previous one to finish.
The lists are filled directly with SQL (B5's fill: one INSERT … SELECT per list); importing
millions of contacts through the API is B1's business.

    python -m bench.b3_delete --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench import harness
from bench.b5_paging import fill_contacts, ms, percentile, timed

DEFAULT_SIZES = "0,10000,100000,1000000"
DEFAULT_LISTS = "10,10,6,3"
PROBE_SECONDS = 0.1  # how often the database is asked whether a purge has finished
PAGE_LIMIT = 50
# Each reader waits this long between its reads: 8 clients reading, not 8 saturating the server
# (flat out, every latency is mostly the queue in front of it; `--reader-pause 0` measures that).
READER_PAUSE = 0.05
DETAILS, FIRST_PAGE = "GET list details", "getAllContacts first page"


@dataclass(frozen=True)
class Sample:
    start: float  # time.monotonic(): one clock for every process of the machine
    seconds: float
    kind: str


@dataclass
class Victim:
    list_id: str
    size: int


@dataclass
class Lists:
    small: str  # the baseline GET's
    readers: list[str]
    victims: dict[int, list[Victim]]  # by size


@dataclass
class Deletion:
    victim: Victim
    seconds: float
    gets: list[float]  # the baseline GETs made just before it
    started: float
    purged: float  # when the list's row was seen gone

    @property
    def purge_seconds(self) -> float:
        return self.purged - self.started


@dataclass
class Window:
    start: float
    end: float

    def holds(self, sample: Sample) -> bool:
        return self.start <= sample.start < self.end


@dataclass
class Run:
    deletions: list[Deletion] = field(default_factory=list)
    quiet: list[Window] = field(default_factory=list)
    purging: list[Window] = field(default_factory=list)


# ---------------------------------------------------------------- the database, read directly


class Probe:
    """Reads the service's tables directly: has a purge finished, is anything left behind."""

    def __init__(self, db: harness.Database, account_id: str) -> None:
        self.db = db
        self.account_id = account_id
        self._loop = asyncio.new_event_loop()
        self._pg: asyncpg.Connection | None = None
        self._lite: sqlite3.Connection | None = None
        if db.kind == "postgresql":
            self._pg = self._loop.run_until_complete(asyncpg.connect(db.psql_url()))
        else:
            self._lite = sqlite3.connect(db.sqlite_path, isolation_level=None, timeout=60)

    def close(self) -> None:
        if self._pg is not None:
            self._loop.run_until_complete(self._pg.close())
        if self._lite is not None:
            self._lite.close()
        self._loop.close()

    def _count(self, table: str, column: str, list_id: str) -> int:
        if self._pg is not None:
            query = f"SELECT count(*) FROM {table} WHERE account_id = $1 AND {column} = $2"
            found = self._loop.run_until_complete(
                self._pg.fetchval(query, self.account_id, list_id)
            )
            return int(found)
        assert self._lite is not None
        query = f"SELECT count(*) FROM {table} WHERE account_id = ? AND {column} = ?"
        (found,) = self._lite.execute(query, (self.account_id, list_id)).fetchone()
        return int(found)

    def list_row_exists(self, list_id: str) -> bool:
        return self._count("contact_list", "id", list_id) > 0

    def contacts_left(self, list_id: str) -> int:
        return self._count("contact", "list_id", list_id)

    def wait_gone(self, list_id: str, timeout: float = 3600) -> float:
        """Poll until the list's row is gone (the purge's last step); when it was seen gone."""
        deadline = time.monotonic() + timeout
        while self.list_row_exists(list_id):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the purge of {list_id} has not finished after {timeout} s")
            time.sleep(PROBE_SECONDS)
        return time.monotonic()


def fill(db: harness.Database, account_id: str, list_id: str, rows: int) -> None:
    if rows == 0:
        return
    fill_contacts(db, account_id, list_id, rows)


def make_list(db: harness.Database, api: harness.Api, name: str, rows: int) -> str:
    list_id = api.create_list(name)
    fill(db, api.account_id, list_id, rows)
    return list_id


# ---------------------------------------------------------------- the readers


@dataclass(frozen=True)
class ReaderSetup:
    base_url: str
    headers: dict[str, str]
    prefix: str
    list_ids: list[str]
    pause: float


async def _read_one_list(
    setup: ReaderSetup, list_id: str, stop: Event, samples: list[Sample]
) -> int:
    """Alternate GET list details and the first page of its contacts until ``stop``; errors."""
    errors = 0
    requests = [
        (DETAILS, f"{setup.prefix}/contactList/{list_id}", {}),
        (FIRST_PAGE, f"{setup.prefix}/contactList/{list_id}/getAllContacts", {"limit": PAGE_LIMIT}),
    ]
    async with httpx.AsyncClient(base_url=setup.base_url, headers=setup.headers) as http:
        turn = 0
        while not stop.is_set():
            kind, url, params = requests[turn % 2]
            turn += 1
            start = time.monotonic()
            response = await http.get(url, params=params)
            elapsed = time.monotonic() - start
            if response.status_code != 200:
                errors += 1
            samples.append(Sample(start, elapsed, kind))
            if setup.pause:
                await asyncio.sleep(setup.pause)
    return errors


async def _read_all(setup: ReaderSetup, stop: Event) -> tuple[list[Sample], int]:
    samples: list[Sample] = []
    errors = await asyncio.gather(
        *(_read_one_list(setup, list_id, stop, samples) for list_id in setup.list_ids)
    )
    return samples, sum(errors)


def _reader_process(setup: ReaderSetup, stop: Event, out: Connection) -> None:
    out.send(asyncio.run(_read_all(setup, stop)))
    out.close()


@contextmanager
def readers_running(setup: ReaderSetup) -> Iterator[Callable[[], tuple[list[Sample], int]]]:
    """The readers in a process of their own (so that their work never delays the timing
    client's); yields a function that stops them and returns their samples and error count."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_reader_process, args=(setup, stop, sending), daemon=True)
    process.start()
    sending.close()

    def collect() -> tuple[list[Sample], int]:
        stop.set()
        result: tuple[list[Sample], int] = receiving.recv()
        process.join(timeout=60)
        return result

    try:
        yield collect
    finally:
        if process.is_alive():
            process.terminate()
            process.join()


# ---------------------------------------------------------------- the deletes


def interleaved(victims: dict[int, list[Victim]]) -> list[Victim]:
    """Round after round, one list of each size (small to large) while any is left."""
    order: list[Victim] = []
    rounds = max(len(lists) for lists in victims.values())
    for index in range(rounds):
        order += [lists[index] for _, lists in sorted(victims.items()) if index < len(lists)]
    return order


@dataclass
class SideDeletes:
    """While a reader window is watched, one DELETE of an empty list every ``every`` seconds.

    The same activity in the quiet and the purge windows (so that they differ by the purge
    only), and, for context, a DELETE's latency while another list is being purged.
    """

    api: harness.Api
    spares: list[str]  # empty lists, made beforehand
    every: float
    quiet: list[float] = field(default_factory=list)
    purging: list[float] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def delete_one(self, into: list[float]) -> None:
        list_id = self.spares.pop() if self.spares else self.api.create_list(f"spare {uuid4()}")
        into.append(timed(lambda: self.api.http.delete(f"{self.api.prefix}/contactList/{list_id}")))
        self.deleted.append(list_id)

    def watch(self, finished: Callable[[], bool], into: list[float]) -> float:
        """Poll ``finished`` every PROBE_SECONDS, deleting meanwhile; when it was true."""
        next_delete = time.monotonic() + self.every
        while not finished():
            if self.every and time.monotonic() >= next_delete:
                self.delete_one(into)
                next_delete += self.every
            time.sleep(PROBE_SECONDS)
        return time.monotonic()


def delete_and_wait(
    api: harness.Api,
    victim: Victim,
    small_list: str,
    gets: int,
    wait_purged: Callable[[str], float],
) -> Deletion:
    """``gets`` timed GETs of the small list, the timed DELETE, then wait for the purge."""

    def get_small() -> httpx.Response:
        return api.http.get(f"{api.prefix}/contactList/{small_list}")

    def delete() -> httpx.Response:
        return api.http.delete(f"{api.prefix}/contactList/{victim.list_id}")

    baseline = [timed(get_small) for _ in range(gets)]
    started = time.monotonic()
    seconds = timed(delete)
    purged = wait_purged(victim.list_id)
    return Deletion(victim, seconds, baseline, started, purged)


def quiet_window(probe: Probe, side: SideDeletes, small_list: str, seconds: float) -> Window:
    """``seconds`` of the readers (and the side deletes) without a purge of the largest size;
    the database is polled as during a purge."""
    start = time.monotonic()

    def finished() -> bool:
        probe.list_row_exists(small_list)
        return time.monotonic() - start >= seconds

    return Window(start, side.watch(finished, side.quiet))


def warm_up(api: harness.Api, probe: Probe, small_list: str) -> None:
    """Five GETs and one DELETE of an empty list, not counted: connections, statements."""
    spare = Victim(api.create_list("bench b3 warm-up"), 0)
    delete_and_wait(api, spare, small_list, 5, probe.wait_gone)


def run_deletes(
    api: harness.Api,
    probe: Probe,
    lists: Lists,
    side: SideDeletes,
    args: argparse.Namespace,
) -> Run:
    run = Run()
    plan = interleaved(lists.victims)
    largest = max(victim.size for victim in plan)

    def purge_watched(list_id: str) -> float:
        return side.watch(lambda: not probe.list_row_exists(list_id), side.purging)

    for number, victim in enumerate(plan, 1):
        is_largest = victim.size == largest and largest > 0
        if is_largest:
            run.quiet.append(quiet_window(probe, side, lists.small, args.quiet_seconds))
        wait = purge_watched if is_largest else probe.wait_gone
        deletion = delete_and_wait(api, victim, lists.small, args.gets_per_delete, wait)
        run.deletions.append(deletion)
        if is_largest:
            run.purging.append(Window(deletion.started, deletion.purged))
        harness.log(
            f"{number}/{len(plan)}: DELETE of {victim.size:,} contacts {ms(deletion.seconds)}, "
            f"purged after {deletion.purge_seconds:.1f} s"
        )
    for list_id in side.deleted:
        probe.wait_gone(list_id)
    return run


# ---------------------------------------------------------------- the report


def p50_p99(values: list[float]) -> str:
    return f"{ms(statistics.median(values))} / {ms(percentile(values, 0.99))}"


def size_lines(report: harness.Report, run: Run) -> None:
    for size in sorted({deletion.victim.size for deletion in run.deletions}):
        of_size = [deletion for deletion in run.deletions if deletion.victim.size == size]
        deletes = [deletion.seconds for deletion in of_size]
        gets = [get for deletion in of_size for get in deletion.gets]
        delete_p99, get_p99 = percentile(deletes, 0.99), percentile(gets, 0.99)
        report.add(
            f"DELETE of {size:,} contacts, p50 / p99 (n={len(deletes)}); "
            f"baseline GET (n={len(gets)})",
            f"{p50_p99(deletes)}; GET {p50_p99(gets)}; "
            f"**ratio p99 {harness.ratio(delete_p99, get_p99)}**",
        )


def in_windows(samples: list[Sample], windows: list[Window]) -> list[Sample]:
    return [sample for sample in samples if any(window.holds(sample) for window in windows)]


def reader_comparison(quiet: list[Sample], purging: list[Sample], kinds: tuple[str, ...]) -> str:
    without = [sample.seconds for sample in quiet if sample.kind in kinds]
    during = [sample.seconds for sample in purging if sample.kind in kinds]
    p99_ratio = harness.ratio(percentile(during, 0.99), percentile(without, 0.99))
    p50_ratio = harness.ratio(statistics.median(during), statistics.median(without))
    return (
        f"{p50_p99(without)} ({len(without):,}) → {p50_p99(during)} ({len(during):,}); "
        f"ratio p99 {p99_ratio}, p50 {p50_ratio}"
    )


def reader_lines(report: harness.Report, run: Run, samples: list[Sample]) -> None:
    quiet, purging = in_windows(samples, run.quiet), in_windows(samples, run.purging)
    if not quiet or not purging:
        report.add("readers", "no quiet or purge window (no list larger than 0 deleted)")
        return
    quiet_seconds = sum(window.end - window.start for window in run.quiet)
    purge_seconds = sum(window.end - window.start for window in run.purging)
    report.add(
        "readers' windows: no purge → during the purges",
        f"{quiet_seconds:.0f} s, {len(quiet) / quiet_seconds:,.0f} reads/s → "
        f"{purge_seconds:.0f} s, {len(purging) / purge_seconds:,.0f} reads/s",
    )
    report.add(
        "**readers, all reads: p50 / p99 (reads) no purge → during the purges**",
        f"**{reader_comparison(quiet, purging, (DETAILS, FIRST_PAGE))}**",
    )
    for kind in (DETAILS, FIRST_PAGE):
        report.add(f"readers, {kind} only", reader_comparison(quiet, purging, (kind,)))


def side_lines(report: harness.Report, side: SideDeletes) -> None:
    if not side.quiet or not side.purging:
        return
    report.add(
        "context: DELETE of an empty list every "
        f"{side.every:g} s, p50 / p99 (deletes) no purge → during the purges",
        f"{p50_p99(side.quiet)} ({len(side.quiet)}) → {p50_p99(side.purging)} "
        f"({len(side.purging)}); ratio p99 "
        f"{harness.ratio(percentile(side.purging, 0.99), percentile(side.quiet, 0.99))}",
    )


def purge_lines(report: harness.Report, run: Run) -> None:
    largest = max(deletion.victim.size for deletion in run.deletions)
    timings = [d.purge_seconds for d in run.deletions if d.victim.size == largest]
    report.add(
        f"context: purge of {largest:,} contacts, DELETE → list row gone",
        f"{harness.seconds_list(timings)} s "
        f"({harness.rate(largest / statistics.median(timings))} at the median)",
    )


def leftovers(probe: Probe, deleted: list[str]) -> tuple[int, int]:
    """Contacts and list rows left of the deleted lists (both should be 0)."""
    contacts = sum(probe.contacts_left(list_id) for list_id in deleted)
    rows = sum(probe.list_row_exists(list_id) for list_id in deleted)
    return contacts, rows


def write_report(
    args: argparse.Namespace,
    run: Run,
    side: SideDeletes,
    readers: tuple[list[Sample], int],
    left: tuple[int, int],
) -> None:
    samples, errors = readers
    report = harness.Report(
        "b3-delete", "B3 — delete latency vs list size", args.database, max(args.sizes)
    )
    report.add(
        "server",
        f"CONTACTLISTS_TRASH_DAYS=0 (purge due at once), purge batch "
        f"{args.purge_batch_rows or 'default'}, one in-process job worker",
    )
    report.add(
        "lists deleted",
        ", ".join(f"{count} × {size:,}" for size, count in zip(args.sizes, args.lists, strict=True))
        + " contacts, in rounds (one of each size per round); each DELETE after the previous "
        "purge had finished",
    )
    report.add(
        "readers",
        f"{args.readers} clients in a process of their own, each on its own list of "
        f"{args.reader_rows:,} contacts, alternating GET list details and getAllContacts "
        f"limit={PAGE_LIMIT}, pause {args.reader_pause * 1000:g} ms between requests; "
        f"{len(samples):,} reads, {errors} errors",
    )
    report.add(
        "baseline",
        f"GET list details of a list of {args.small_rows} contacts, {args.gets_per_delete} "
        "times just before each DELETE, same client",
    )
    size_lines(report, run)
    all_deletes = [d.seconds for d in run.deletions]
    all_gets = [get for d in run.deletions for get in d.gets]
    report.add(
        f"all sizes, p50 / p99: DELETE ({len(all_deletes)}); GET ({len(all_gets)})",
        f"{p50_p99(all_deletes)}; GET {p50_p99(all_gets)}",
    )
    reader_lines(report, run, samples)
    side_lines(report, side)
    purge_lines(report, run)
    report.add(
        "check: contacts / list rows left of the deleted lists", f"{left[0]:,} / {left[1]:,}"
    )
    report.add(
        "target",
        "DELETE p99 ≤ 3× the GET p99 at every size; reader p99 during the purge ≤ 2× without",
    )
    report.notes += [
        "A p99 of fewer than 100 samples is their largest value (nearest rank): with 3 deletes "
        "of a size it is the slowest of the 3.",
        f"The quiet windows are {args.quiet_seconds:g} s just before each delete of the "
        "largest size; the purge windows run from that DELETE until its list row is gone (read "
        f"in the database every {PROBE_SECONDS:g} s). In both, the timing client deletes an "
        f"empty list every {args.side_delete_every:g} s (their purges are queued behind the "
        "large one: one job worker).",
        "The lists were filled with one INSERT … SELECT each (bench/b5_paging.py), outside "
        "what is measured.",
    ]
    report.write()


# ---------------------------------------------------------------- main


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.argument_parser(__doc__, seed=False)
    parser.add_argument("--sizes", type=numbers, default=DEFAULT_SIZES, help="contacts per list")
    parser.add_argument(
        "--lists", type=numbers, default=DEFAULT_LISTS, help="lists deleted of each size"
    )
    parser.add_argument("--readers", type=int, default=8, help="concurrent reader clients")
    parser.add_argument("--reader-rows", type=int, default=1000, help="contacts per reader list")
    parser.add_argument(
        "--reader-pause",
        type=float,
        default=READER_PAUSE,
        help=f"seconds each reader waits between reads (default {READER_PAUSE}; 0: flat out)",
    )
    parser.add_argument("--small-rows", type=int, default=100, help="contacts in the GET's list")
    parser.add_argument("--gets-per-delete", type=int, default=4, help="baseline GETs per DELETE")
    parser.add_argument(
        "--quiet-seconds", type=float, default=20, help="readers alone before each largest delete"
    )
    parser.add_argument(
        "--side-delete-every",
        type=float,
        default=2.0,
        help="seconds between DELETEs of empty lists in the reader windows (0: none)",
    )
    parser.add_argument(
        "--purge-batch-rows", type=int, default=0, help="CONTACTLISTS_PURGE_BATCH_ROWS (0: default)"
    )
    args = parser.parse_args(argv)
    if len(args.sizes) != len(args.lists):
        parser.error("--sizes and --lists need as many values")
    return args


def make_lists(db: harness.Database, api: harness.Api, args: argparse.Namespace) -> Lists:
    start = time.perf_counter()
    small = make_list(db, api, "bench b3 small", args.small_rows)
    readers = [
        make_list(db, api, f"bench b3 reader {n}", args.reader_rows) for n in range(args.readers)
    ]
    victims = {
        size: [Victim(make_list(db, api, f"bench b3 {size} {n}", size), size) for n in range(count)]
        for size, count in zip(args.sizes, args.lists, strict=True)
    }
    harness.log(f"lists filled in {time.perf_counter() - start:.1f} s")
    return Lists(small, readers, victims)


def make_spares(api: harness.Api, args: argparse.Namespace) -> list[str]:
    """Empty lists for the side deletes: enough for the quiet windows and ~2 minutes of purge
    each (more are made on the way if a purge takes longer)."""
    if not args.side_delete_every:
        return []
    windows = args.lists[args.sizes.index(max(args.sizes))]
    count = windows * math.ceil((args.quiet_seconds + 120) / args.side_delete_every)
    return [api.create_list(f"bench b3 spare {n}") for n in range(count)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.handle_signals()
    env = {"CONTACTLISTS_TRASH_DAYS": "0"}
    if args.purge_batch_rows:
        env["CONTACTLISTS_PURGE_BATCH_ROWS"] = str(args.purge_batch_rows)
    with (
        harness.scratch_database(args.database) as db,
        harness.serve(db, env) as server,
        harness.api_client(db, server) as api,
    ):
        lists = make_lists(db, api, args)
        side = SideDeletes(api, make_spares(api, args), args.side_delete_every)
        setup = ReaderSetup(
            server.base_url, dict(api.http.headers), api.prefix, lists.readers, args.reader_pause
        )
        with readers_running(setup) as stop_readers:
            probe = Probe(db, api.account_id)
            try:
                time.sleep(2.0)  # the readers connect and warm up
                warm_up(api, probe, lists.small)
                run = run_deletes(api, probe, lists, side, args)
                readers = stop_readers()
                deleted = [d.victim.list_id for d in run.deletions] + side.deleted
                left = leftovers(probe, deleted)
            finally:
                probe.close()
    write_report(args, run, side, readers, left)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
