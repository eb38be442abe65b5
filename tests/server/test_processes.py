"""``serve --processes 2``: two API processes on one port, one set of job workers, metrics that
add up over both, and a SIGTERM that drains both and ends the parent with 0."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.databases import DatabaseFactory
from tests.support.paths import Paths
from tests.support.servers import ServeProcess, running_serve

pytestmark = pytest.mark.serial

DEV_BOT = "st-00000000-0000-4000-8000-000000000000"
ADD_CONTACTS = f"/api/1.1/public/{DEV_BOT}/campaign/contactList/addContacts"
GETS = 24
CONTACTS = 5
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def printed(output: str, label: str) -> str:
    found = re.search(rf"^\s*{re.escape(label)}:\s*(\S+)\s*$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def dev_headers(server: ServeProcess) -> dict[str, str]:
    lines = server.output.splitlines()
    token = lines[next(i for i, line in enumerate(lines) if "token valid" in line) + 1].strip()
    return {"auth": token, "iid": DEV_BOT, "accountId": printed(server.output, "accountId")}


def fresh_connection_get(url: str, **kwargs: Any) -> httpx.Response:
    """A GET on a connection of its own: the kernel may hand it to either process."""
    with httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        return http.get(url, **kwargs)


def scrape(base_url: str) -> Samples:
    samples: Samples = {}
    text = fresh_connection_get(base_url + "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (key, found), value in samples.items() if key == name and wanted <= found)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def test_two_processes_share_the_port_the_workers_and_the_metrics(
    fresh_database: DatabaseFactory, backend: str, tmp_path: Path
) -> None:
    database_url = fresh_database.create(backend)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = ["--database-url", database_url, "--processes", "2"]
    # TMPDIR: where the parent makes the processes' metrics directory, to see it removed.
    settings = {"TMPDIR": str(scratch), "CONTACTLISTS_DATA_DIR": str(tmp_path / "data")}
    with running_serve(args, settings=settings) as server:
        assert "2 processes" in server.output
        assert len(list(scratch.glob("contactlists-metrics-*"))) == 1
        # Both processes answer, and neither is the parent.
        pids: set[str] = set()
        for _ in range(200):
            pids.add(fresh_connection_get(server.base_url + "/healthz").headers["x-process-id"])
            if len(pids) == 2:
                break
        assert len(pids) == 2, pids
        assert str(server.process.pid) not in pids
        children = [int(pid) for pid in pids]

        headers = dev_headers(server)
        paths = Paths("v2", DEV_BOT)
        with httpx.Client(base_url=server.base_url, timeout=10.0, headers=headers) as http:
            created = http.post(paths.create, json={"name": "processes"})
            assert created.status_code == 200, created.text
            list_id = created.json()["data"]["_id"]
            items = [{"phoneNumber": f"+1212555{index:04d}"} for index in range(CONTACTS)]
            queued = http.post(ADD_CONTACTS, json={"contact_list_name": "processes", "data": items})
            assert queued.status_code == 200, queued.text
            job_url = f"{paths.prefix}/jobs/{queued.json()['jobId']}"
            deadline = time.monotonic() + 30
            while (state := http.get(job_url).json()["data"]["state"]) != "completed":
                assert state in ("queued", "running"), state
                assert time.monotonic() < deadline, "the import did not finish"
                time.sleep(0.1)

        for _ in range(GETS):
            answer = fresh_connection_get(server.base_url + paths.list(list_id), headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["totalRecordCount"] == CONTACTS

        # Whichever process answers the scrape, it counts both processes' requests and jobs.
        route = "/campaign/api/v2/public/{bot}/campaign/contactList/{list_id}"
        for _ in range(4):
            samples = scrape(server.base_url)
            assert total(samples, "contactlists_http_requests_total", route=route) == GETS
            assert total(samples, "contactlists_job_workers") == 1  # one set of workers
            finished = total(samples, "contactlists_jobs_finished_total", kind="add_contacts")
            assert finished == 1
            assert total(samples, "contactlists_contacts_imported_total") == CONTACTS

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in children)
        assert list(scratch.glob("contactlists-metrics-*")) == []
