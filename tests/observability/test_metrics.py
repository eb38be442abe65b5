"""``GET /metrics``: requests by route template, jobs by kind and final state, the job queue,
and the contacts imported, read back in the Prometheus text format as a scraper reads them."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import JobContext, JobLost, WorkerPool
from contactlists.tasks import HANDLERS
from tests.support.contacts import add_contacts, create_list, job
from tests.support.durable import OwnDatabase, service_settings, sessions, wait_until
from tests.support.envelope import assert_failure
from tests.support.paths import Paths
from tests.support.processes import Processes
from tests.support.servers import free_port
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LIST_ROUTE = "/campaign/api/v2/public/{bot}/campaign/contactList/{list_id}"


async def scrape(client: AsyncClient) -> Samples:
    """Every sample of ``/metrics``, by name and labels, parsed as Prometheus parses it."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, route: str, status: int, method: str = "GET") -> float:
    return value(
        samples, "contactlists_http_requests_total", method=method, route=route, status=str(status)
    )


# ---------------------------------------------------------------- requests


async def test_requests_are_counted_by_route_template_method_and_status(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    paths = Paths("v2", tenant.bot)
    created = await create_list(client, tenant, unique_name)
    for _ in range(2):
        found = await client.get(paths.list(created["_id"]), headers=tenant.headers())
        assert found.status_code == 200, found.text
    missing = await client.get(paths.list(f"cl-{uuid.uuid4()}"), headers=tenant.headers())
    assert_failure(missing, 404, "not_found")
    anonymous = await client.get(paths.list(created["_id"]))
    assert_failure(anonymous, 401, "invalid_credentials", code=4002)
    nowhere = await client.get(f"/no/such/route/{uuid.uuid4()}")
    assert_failure(nowhere, 404, "not_found")
    wrong_method = await client.patch(paths.list(created["_id"]), headers=tenant.headers())
    assert_failure(wrong_method, 405, "method_not_allowed")

    samples = await scrape(client)

    assert requests(samples, LIST_ROUTE, 200) == 2
    assert requests(samples, LIST_ROUTE, 404) == 1
    assert requests(samples, LIST_ROUTE, 401) == 1
    assert requests(samples, LIST_ROUTE, 405, method="PATCH") == 1
    assert requests(samples, "unmatched", 404) == 1
    create_route = "/campaign/api/v2/public/{bot}/campaign/contactList/createContactList"
    assert requests(samples, create_route, 200, method="POST") == 1
    # Never the raw path: no label holds a bot or a list id.
    routes = {dict(labels).get("route", "") for _name, labels in samples}
    assert not any(tenant.bot in route or "cl-" in route for route in routes), routes


async def test_the_latency_histogram_has_its_buckets_and_counts_each_request(
    client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    created = await create_list(client, tenant, unique_name)
    for _ in range(3):
        response = await client.get(
            Paths("v2", tenant.bot).list(created["_id"]), headers=tenant.headers()
        )
        assert response.status_code == 200

    samples = await scrape(client)

    name = "contactlists_http_request_duration_seconds"
    labels = {"method": "GET", "route": LIST_ROUTE, "status": "200"}
    buckets = {
        dict(series)["le"]: count
        for (sample, series), count in samples.items()
        if sample == f"{name}_bucket" and set(labels.items()) <= series
    }
    assert {"0.001", "0.01", "0.1", "1.0", "10.0", "+Inf"} <= set(buckets)
    assert buckets["+Inf"] == 3
    assert value(samples, f"{name}_count", **labels) == 3
    assert value(samples, f"{name}_sum", **labels) > 0
    ordered = [buckets[le] for le in sorted(buckets, key=lambda le: float(le))]
    assert ordered == sorted(ordered), "buckets are cumulative"


async def test_an_unexpected_error_is_counted_as_the_500_the_client_got(
    app: FastAPI, client: AsyncClient
) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom/{thing}", boom)

    response = await client.get("/boom/one")
    assert_failure(response, 500, "internal_error")

    samples = await scrape(client)
    assert requests(samples, "/boom/{thing}", 500) == 1


async def test_metrics_and_the_plain_routes_are_labelled_by_their_own_path(
    client: AsyncClient,
) -> None:
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/static/swagger-ui/swagger-ui.css")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200

    samples = await scrape(client)

    assert requests(samples, "/openapi.json", 200) == 1
    assert requests(samples, "/static/swagger-ui/{path}", 200) == 1
    assert requests(samples, "/metrics", 200) == 1


async def test_unknown_methods_share_one_label(client: AsyncClient) -> None:
    for method in ("BREW", "WHEN", "PROPFIND"):
        response = await client.request(method, "/healthz")
        assert response.status_code == 405

    samples = await scrape(client)

    assert requests(samples, "/healthz", 405, method="other") == 3
    methods = {dict(labels).get("method") for _name, labels in samples}
    assert not methods & {"BREW", "WHEN", "PROPFIND"}


async def test_metrics_need_no_token_and_are_not_in_the_openapi_document(
    client: AsyncClient,
) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "# TYPE contactlists_http_requests_total counter" in response.text
    document = (await client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_each_app_counts_only_its_own_requests(settings: Settings) -> None:
    """Two apps in one process (as in these tests) do not share counters or clash."""
    first, second = create_app(settings), create_app(settings)
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
        AsyncClient(transport=ASGITransport(app=first), base_url="http://test") as one,
        AsyncClient(transport=ASGITransport(app=second), base_url="http://test") as other,
    ):
        for _ in range(3):
            await one.get("/healthz")
        await other.get("/healthz")
        assert requests(await scrape(one), "/healthz", 200) == 3
        assert requests(await scrape(other), "/healthz", 200) == 1


# ---------------------------------------------------------------- jobs


async def test_an_import_counts_its_job_its_duration_and_the_contacts_stored(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    items = [{"phoneNumber": f"+1212555{n:04d}"} for n in range(7)]
    items += [{"phoneNumber": "+12125550000"}, {"phoneNumber": "not a number"}]  # dup, invalid
    job_id = await add_contacts(client, tenant, unique_name, items)
    before = await scrape(client)

    assert await run_jobs() == 1

    finished = await job(client, tenant, job_id)
    assert (finished["state"], finished["inserted"]) == ("completed", 7)
    after = await scrape(client)
    labels = {"kind": "add_contacts", "state": "completed"}
    assert value(after, "contactlists_jobs_finished_total", **labels) == 1
    assert value(after, "contactlists_job_duration_seconds_count", **labels) == 1
    assert value(after, "contactlists_job_duration_seconds_sum", **labels) >= 0
    assert value(after, "contactlists_job_duration_seconds_bucket", **labels, le="+Inf") == 1
    imported = "contactlists_contacts_imported_total"
    assert value(before, imported, kind="add_contacts") == 0
    assert value(after, imported, kind="add_contacts") == 7


async def test_contacts_imported_grow_by_every_committed_batch(
    app: FastAPI, settings: Settings, client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    items = [{"phoneNumber": f"+1646555{n:04d}"} for n in range(25)]
    await add_contacts(client, tenant, unique_name, items)
    small_batches = settings.model_copy(update={"import_batch_rows": 10})
    pool = WorkerPool(sessions(app), small_batches, HANDLERS, count=0, metrics=app.state.metrics)

    assert await pool.run_until_idle() == 1

    samples = await scrape(client)
    assert value(samples, "contactlists_contacts_imported_total", kind="add_contacts") == 25


async def test_a_job_with_no_handler_is_counted_failed(
    app: FastAPI, settings: Settings, client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])
    pool = WorkerPool(sessions(app), settings, {}, count=0, metrics=app.state.metrics)

    assert await pool.run_until_idle() == 1

    assert (await job(client, tenant, job_id))["state"] == "failed"
    samples = await scrape(client)
    labels = {"kind": "add_contacts", "state": "failed"}
    assert value(samples, "contactlists_jobs_finished_total", **labels) == 1
    assert value(samples, "contactlists_job_duration_seconds_count", **labels) == 1
    assert (
        value(samples, "contactlists_jobs_finished_total", kind="add_contacts", state="completed")
        == 0
    )


async def test_a_job_cancelled_while_running_is_counted_cancelled_once(
    app: FastAPI, settings: Settings, client: AsyncClient, tenant: Tenant, unique_name: str
) -> None:
    async def cancelled_midway(context: JobContext) -> None:
        # What a cancel from the API does while the job runs; the handler then loses it.
        async with context.sessionmaker() as session, session.begin():
            await jobs_repository.cancel(
                session,
                account_id=context.job.account_id,
                bot_id=context.job.bot_id,
                job_id=context.job.id,
                kinds=[context.job.kind],
            )
        raise JobLost()

    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])
    pool = WorkerPool(
        sessions(app), settings, {"add_contacts": cancelled_midway}, count=0,
        metrics=app.state.metrics,
    )  # fmt: skip

    assert await pool.run_until_idle() == 1

    assert (await job(client, tenant, job_id))["state"] == "cancelled"
    samples = await scrape(client)
    assert (
        value(samples, "contactlists_jobs_finished_total", kind="add_contacts", state="cancelled")
        == 1
    )


async def test_a_job_given_back_to_the_queue_is_not_counted_as_over(
    app: FastAPI, settings: Settings, client: AsyncClient, tenant: Tenant, unique_name: str,
    run_jobs: RunJobs,
) -> None:  # fmt: skip
    async def crashes(_context: JobContext) -> None:
        raise RuntimeError("the database went away")

    await create_list(client, tenant, unique_name)
    job_id = await add_contacts(client, tenant, unique_name, [{"phoneNumber": "+12125550100"}])
    # Tried again after the shortest of pauses: the job is due again by the scrape.
    retrying = settings.model_copy(update={"job_retry_seconds": 0.01})
    failing = WorkerPool(
        sessions(app), retrying, {"add_contacts": crashes}, count=0, metrics=app.state.metrics
    )

    assert await failing.run_one("crashing-worker") is True

    assert (await job(client, tenant, job_id))["state"] == "queued"
    await asyncio.sleep(0.05)
    samples = await scrape(client)
    finished = [
        count
        for (name, _labels), count in samples.items()
        if name == "contactlists_jobs_finished_total"
    ]
    assert sum(finished) == 0
    assert value(samples, "contactlists_job_queue_depth", kind="add_contacts") >= 1
    await run_jobs()  # the next attempt completes it
    assert (await job(client, tenant, job_id))["state"] == "completed"


# ---------------------------------------------------------------- the queue


async def test_queue_depth_counts_the_jobs_waiting_by_kind(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    depth = "contactlists_job_queue_depth"
    before = await scrape(client)
    assert value(before, "contactlists_metrics_database_up") == 1
    for kind in ("add_contacts", "upload", "purge_list"):  # every kind shows, even at 0
        assert (depth, frozenset({("kind", kind)})) in before
    await create_list(client, tenant, unique_name)
    for n in range(3):
        await add_contacts(client, tenant, unique_name, [{"phoneNumber": f"+121255501{n:02d}"}])

    queued = await scrape(client)
    assert (
        value(queued, depth, kind="add_contacts") == value(before, depth, kind="add_contacts") + 3
    )
    assert value(queued, depth, kind="upload") == value(before, depth, kind="upload")

    assert await run_jobs() == 3
    drained = await scrape(client)
    assert value(drained, depth, kind="add_contacts") == value(before, depth, kind="add_contacts")
    assert value(drained, "contactlists_jobs_running", kind="add_contacts") == 0


async def test_metrics_answer_when_the_database_does_not(tmp_path: Path) -> None:
    unreachable = Settings(
        # Nothing listens there: connecting is refused at once.
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/contactlists",
        data_dir=tmp_path / "data",
        workers=0,
        normalise_processes=0,
    )
    app = create_app(unreachable)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        await client.get("/healthz")
        samples = await scrape(client)

    assert value(samples, "contactlists_metrics_database_up") == 0
    assert requests(samples, "/healthz", 200) == 1
    assert not any(name == "contactlists_job_queue_depth" for name, _labels in samples)


# ---------------------------------------------------------------- a worker process


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_worker_process_serves_its_job_metrics_on_its_own_port(
    own: OwnDatabase, started: Processes, tmp_path: Path
) -> None:
    tenant = await own.tenants.create()
    await create_list(own.client, tenant, "Worker metrics")
    items = [{"phoneNumber": f"+1212555{n:04d}"} for n in range(5)]
    job_id = await add_contacts(own.client, tenant, "Worker metrics", items)
    port = free_port()
    settings = service_settings(tmp_path, worker_metrics_port=port, normalise_processes=0)
    started.worker(own.url, settings)

    async def completed() -> bool:
        state: str = (await job(own.client, tenant, job_id))["state"]
        return state == "completed"

    await wait_until(completed, "the worker to complete the import", logs=started)
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    samples = parse(response.text)
    labels = {"kind": "add_contacts", "state": "completed"}
    assert value(samples, "contactlists_jobs_finished_total", **labels) == 1
    assert value(samples, "contactlists_job_duration_seconds_count", **labels) == 1
    assert value(samples, "contactlists_contacts_imported_total", kind="add_contacts") == 5


def test_a_worker_whose_metrics_port_is_taken_says_so_and_exits(tmp_path: Path) -> None:
    database = tmp_path / "any.db"
    database.touch()  # it is not opened: the port is taken first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "contactlists", "worker", "--database-url",
             f"sqlite:///{database}", "--metrics-port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1, done
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
