"""Prometheus metrics: requests, jobs, the job queue and imported contacts.

Each app (and each standalone worker process) has its own :class:`Metrics` and registry,
never prometheus_client's global one: ``create_app`` runs many times in one test process,
and the global registry would refuse the second set of collectors.

Counters and histograms are per process (Prometheus sums them across targets). The queue
gauges are read from the database when ``/metrics`` is scraped, so every process reports the
same, true figure for the whole deployment: take one of them, do not sum them.

``serve --processes N`` runs several API processes behind one port, and a scrape reaches any
one of them: there the metrics are prometheus-client's multiprocess mode. The parent sets
``PROMETHEUS_MULTIPROC_DIR`` (a temporary directory it owns and removes) before any collector
exists; each process writes its values to its own files there, and ``/metrics`` adds up the
files of all of them (:func:`multiprocess_dir`, :meth:`Metrics.exposition`): counters and
histograms summed, the open connections summed over the live processes, the queue gauges the
most recent value written.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("contactlists.metrics")

# Request latency: from a cached read (~1 ms) to a large upload.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Job run time: from an addContacts of a few items to an import of tens of millions of rows.
JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
# Methods outside this set are counted as "other", so a client cannot grow the label set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route label of a request that matched no route (any 404 of an unknown path).
UNMATCHED_ROUTE = "unmatched"
# A scrape answers even when the database does not; the queue gauges are then left out.
QUEUE_QUERY_TIMEOUT_SECONDS = 2.0
# (kind, state, count) of the jobs waiting or running, read from the database at scrape time.
QueueReader = Callable[[], Awaitable[list[tuple[str, str, int]]]]
METRICS_PATH = "/metrics"
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The shared directory of the processes' metrics, when several processes serve."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def enable_multiprocess(directory: str) -> None:
    """Collectors made from now on (in this process and its forks) write to ``directory``.

    prometheus-client chooses how values are kept when it is imported; it may be imported
    already, so the choice is made again here.
    """
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def forget_process(pid: int) -> None:
    """A process has exited: its live gauges (the open connections) no longer count."""
    directory = multiprocess_dir()
    if directory:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class Metrics:
    """The collectors of one process (or one app, in tests), in their own registry."""

    def __init__(
        self, job_kinds: Iterable[str] = (), queue_reader: QueueReader | None = None
    ) -> None:
        # Every kind shows in the queue gauges, at 0 when it has no job; the reader is the
        # queue's, handed in by the app (a standalone worker serves no queue gauges).
        self.job_kinds = tuple(job_kinds)
        self.queue_reader = queue_reader
        self.registry = CollectorRegistry()
        registry = self.registry
        self.http_requests = Counter(
            "contactlists_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.http_duration = Histogram(
            "contactlists_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route "
            "template and status.",
            ("method", "route", "status"),
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.jobs_finished = Counter(
            "contactlists_jobs_finished",
            "Jobs that a worker of this process saw end, by kind and final state "
            "(completed, failed, cancelled).",
            ("kind", "state"),
            registry=registry,
        )
        self.job_duration = Histogram(
            "contactlists_job_duration_seconds",
            "Time from a job's first start to its end (resumptions included), by kind and "
            "final state.",
            ("kind", "state"),
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.job_retries = Counter(
            "contactlists_job_retries",
            "Jobs tried again by a worker of this process, by kind and cause: error (a failed "
            "attempt, retried after a pause) or takeover (its worker went silent).",
            ("kind", "cause"),
            registry=registry,
        )
        self.contacts_imported = Counter(
            "contactlists_contacts_imported",
            "Contacts stored by import jobs (addContacts and uploads), counted per committed "
            "batch.",
            ("kind",),
            registry=registry,
        )
        self.queue_depth = Gauge(
            "contactlists_job_queue_depth",
            "Jobs waiting for a worker (queued and due), by kind; read from the database at "
            "scrape time, for the whole deployment.",
            ("kind",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.jobs_running = Gauge(
            "contactlists_jobs_running",
            "Jobs being run by some worker, by kind; read from the database at scrape time, "
            "for the whole deployment.",
            ("kind",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.job_workers = Gauge(
            "contactlists_job_workers",
            "Job workers running (in all the processes of `serve --processes`).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.database_up = Gauge(
            "contactlists_metrics_database_up",
            "1 when this scrape could read the job queue from the database, else 0.",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        # labels() takes a lock and builds a key each time: the children are kept here.
        self._http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # Normalised before the lookup: the cache must stay as bounded as the labels.
        key = (method if method in KNOWN_METHODS else "other", route, status)
        children = self._http_children.get(key)
        if children is None:
            labels = (key[0], route, str(status))
            children = (self.http_requests.labels(*labels), self.http_duration.labels(*labels))
            self._http_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def job_finished(self, kind: str, state: str, seconds: float | None) -> None:
        self.jobs_finished.labels(kind, state).inc()
        if seconds is not None:
            self.job_duration.labels(kind, state).observe(max(seconds, 0.0))

    def job_retried(self, kind: str, cause: str) -> None:
        self.job_retries.labels(kind, cause).inc()

    def contacts_stored(self, kind: str, count: int) -> None:
        if count:
            self.contacts_imported.labels(kind).inc(count)

    def set_queue(self, counts: Iterable[tuple[str, str, int]] | None) -> None:
        """The queue gauges from (kind, state, count) rows; None: the database did not answer."""
        if multiprocess_dir() is None:
            # (Not possible across processes; there, every kind is set below all the same.)
            self.queue_depth.clear()
            self.jobs_running.clear()
        if counts is None:
            self.database_up.set(0)
            return
        self.database_up.set(1)
        for kind in self.job_kinds:
            self.queue_depth.labels(kind).set(0)
            self.jobs_running.labels(kind).set(0)
        for kind, state, count in counts:
            gauge = self.queue_depth if state == "queued" else self.jobs_running
            gauge.labels(kind).set(count)

    def exposition(self) -> bytes:
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        # Every process's files, this one's included.
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(combined)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text format. Unauthenticated: keep it off the internet."""
    metrics: Metrics = request.app.state.metrics
    counts: list[tuple[str, str, int]] | None = None
    try:
        if metrics.queue_reader is not None:
            async with asyncio.timeout(QUEUE_QUERY_TIMEOUT_SECONDS):
                counts = await metrics.queue_reader()
    except Exception as exc:  # the database is away: the rest of the metrics still answer
        log.warning("metrics: could not read the job queue: %s", type(exc).__name__)
        counts = None
    # No await between setting the gauges and rendering them: concurrent scrapes cannot mix.
    metrics.set_queue(counts)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
