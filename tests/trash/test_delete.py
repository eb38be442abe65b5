"""Delete Contact List (CONTRACT §4.5), the seed of the project.

The seed's request is sent exactly as Kore.ai's curl sample sends it; the list must then
be gone for every reader at once, its name free, and of concurrent deletes exactly one
may win, both through the ASGI app and against a real server process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from contactlists.config import Settings
from tests.support.list_wire import (
    V1_FULL_KEYS,
    assert_full_shape,
    assert_not_found,
    create_list,
    delete_list,
    get_all,
    get_list,
)
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id

pytestmark = pytest.mark.anyio

SEED_NAME = "Renewal Due - August 2025"
SEED_DESCRIPTION = (
    "This list contains customers with services expiring in July 2025. It includes contact "
    "details and subscription info to help agents provide tailored support during live calls."
)
# The list of the seed's sample response: an API-integration list that allows duplicates.
SEED_LIST = {
    "name": SEED_NAME,
    "description": SEED_DESCRIPTION,
    "source": "passiveApiIntegration",
    "allowDuplicates": True,
}
# What curl sends for `--data ''`: a form content type and an empty body.
CURL_EMPTY_DATA_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Content-Length": "0",
    "Accept": "*/*",
}
CONCURRENT_DELETES = 8
ROUNDS = 5


async def test_seed_request_answers_the_list_exactly_as_it_was(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create_list(client, tenant, "v1", **SEED_LIST)
    before_response = await get_list(client, tenant, created["_id"])
    assert before_response.status_code == 200
    before = before_response.json()["data"]
    # Would a delete stamp the list, the stamp could not fall in the creating millisecond.
    await asyncio.sleep(0.01)

    response = await client.request(
        "DELETE",
        f"/agentassist/api/v1/public/{tenant.bot}/campaign/contactList/{created['_id']}",
        headers={
            "iid": tenant.bot,
            "accountId": tenant.account_id,
            "auth": tenant.token(sub="u-tester"),
            **CURL_EMPTY_DATA_HEADERS,
        },
        content=b"",
    )

    assert response.request.headers["content-length"] == "0"
    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert response.request.content == b""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    reply = response.json()
    assert list(reply) == ["status", "message", "data"]
    assert reply["status"] == "success"
    assert reply["message"] == "Contact list Renewal Due - August 2025 deleted successfully"
    data = reply["data"]
    assert data == before
    assert list(data) == list(before)
    assert_full_shape(data, "v1")
    assert list(data)[: len(V1_FULL_KEYS)] == V1_FULL_KEYS
    assert data["_id"] == created["_id"]
    assert data["isActive"] is True
    assert data["orgId"] == tenant.org_id
    assert data["name"] == SEED_NAME
    assert data["lname"] == "renewal due - august 2025"
    assert data["description"] == SEED_DESCRIPTION
    assert data["totalRecordCount"] == 0
    assert data["status"] == "Ready"
    assert data["createdBy"] == data["updatedBy"] == "u-tester"
    assert data["mapping"] == {
        "firstName": "firstName",
        "lastName": "lastName",
        "phoneNumber": "phoneNumber",
        "timeZone": "timeZone",
        "uniqueId": "uniqueId",
    }
    assert data["isListInUse"] is False
    assert data["iId"] == tenant.bot
    assert data["listType"] == "call"
    assert data["campaignInUse"] == []
    assert data["accountId"] == tenant.account_id
    assert data["source"] == "passiveApiIntegration"
    assert data["apiConfigurations"] == {"dataSyncMode": "allowDuplicates"}
    assert data["files"] == []
    assert data["createdAt"] == created["createdAt"]
    # The delete does not count as an update.
    assert data["updatedAt"] == before["updatedAt"] == created["updatedAt"]
    assert_not_found(await get_list(client, tenant, created["_id"]))


# Bodies a client may send with a delete; all are ignored (CONTRACT §4.5).
IGNORED_BODIES = [
    ("application/x-www-form-urlencoded", b""),
    ("application/json", b'{"name": "Another name", "isActive": false, "force": true}'),
    ("application/json", b"[1, 2"),
    ("text/plain", b"please delete"),
]


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_delete_ignores_any_body(client: AsyncClient, tenant: Tenant, family: str) -> None:
    for number, (content_type, body) in enumerate(IGNORED_BODIES):
        name = f"Ignored body {number}"
        created = await create_list(client, tenant, family, name=name, description="d")
        before = (await get_list(client, tenant, created["_id"], family)).json()["data"]
        await asyncio.sleep(0.01)

        response = await client.request(
            "DELETE",
            Paths(family, tenant.bot).list(created["_id"]),
            headers=tenant.headers(**{"Content-Type": content_type}),
            content=body,
        )

        assert response.status_code == 200, (body, response.text)
        reply = response.json()
        assert reply["status"] == "success"
        assert reply["message"] == f"Contact list {name} deleted successfully"
        assert reply["data"] == before
        assert list(reply["data"]) == list(before)
        assert_full_shape(reply["data"], family)
        assert reply["data"]["isActive"] is True
        assert reply["data"]["updatedAt"] == created["updatedAt"]
        if family == "v2":
            assert list(reply["data"]["mapping"])[-1] == "contactPriority"
            assert reply["data"]["isGlobalDNC"] is False
            assert reply["data"]["isDefault"] is False
            assert reply["data"]["columns"] == []
            assert "orgId" not in reply["data"]
        assert_not_found(await get_list(client, tenant, created["_id"], family))


@pytest.mark.parametrize("family", ["v1", "v2"])
async def test_deleted_list_is_gone_and_its_name_is_free(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    paths = Paths(family, tenant.bot)
    doomed = await create_list(client, tenant, family, name="Renewal Due")
    kept = await create_list(client, tenant, family, name="Kept")
    # While the list lives its name is taken, in any letter case.
    taken = await client.post(paths.create, json={"name": "RENEWAL due"}, headers=tenant.headers())
    assert taken.status_code == 409, taken.text

    assert (await delete_list(client, tenant, doomed["_id"], family)).status_code == 200

    assert_not_found(await get_list(client, tenant, doomed["_id"], family))
    assert_not_found(await delete_list(client, tenant, doomed["_id"], family))
    for update in ({"description": "changed"}, {"name": "Renamed"}, {}):
        response = await client.put(
            paths.list(doomed["_id"]), json=update, headers=tenant.headers()
        )
        assert_not_found(response)
    for params in ({}, {"type": "call"}):
        listed = [item["_id"] for item in await get_all(client, tenant, family, **params)]
        assert listed == [kept["_id"]]

    reused = await create_list(client, tenant, family, name="RENEWAL due")

    assert reused["_id"] != doomed["_id"]
    assert reused["name"] == "RENEWAL due"
    assert_not_found(await get_list(client, tenant, doomed["_id"], family))
    assert_not_found(await delete_list(client, tenant, doomed["_id"], family))
    # The failed delete of the old id left the new list alone.
    again = await get_list(client, tenant, reused["_id"], family)
    assert again.status_code == 200
    assert again.json()["data"]["name"] == "RENEWAL due"
    live = {item["_id"] for item in await get_all(client, tenant, family)}
    assert live == {reused["_id"], kept["_id"]}


def _assert_exactly_one_won(
    responses: list[httpx.Response], before: dict[str, Any], name: str
) -> None:
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [404] * (CONCURRENT_DELETES - 1), statuses
    for response in responses:
        if response.status_code == 200:
            reply = response.json()
            assert reply["message"] == f"Contact list {name} deleted successfully"
            assert reply["data"]["_id"] == before["_id"]
            assert reply["data"]["isActive"] is True
        else:
            assert_not_found(response)


async def test_of_concurrent_deletes_exactly_one_answers_200(
    client: AsyncClient, tenant: Tenant
) -> None:
    for round_ in range(ROUNDS):
        name = f"Contended {round_}"
        created = await create_list(client, tenant, "v1", name=name)
        before = (await get_list(client, tenant, created["_id"])).json()["data"]

        # Both path families at once: they serve the same data.
        responses = await asyncio.gather(
            *(
                delete_list(client, tenant, created["_id"], "v1" if i % 2 else "v2")
                for i in range(CONCURRENT_DELETES)
            )
        )

        _assert_exactly_one_won(list(responses), before, name)
        winner = next(r for r in responses if r.status_code == 200)
        assert winner.json()["data"]["updatedAt"] == before["updatedAt"]
        assert_not_found(await get_list(client, tenant, created["_id"]))
    assert await get_all(client, tenant) == []


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class LiveServer:
    base_url: str
    tenant: Tenant


@pytest.fixture
async def live_server(
    settings: Settings, tenants: TenantFactory, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    """``contactlists serve`` in its own process on the test database, with a tenant of it.

    The tenant is made first, so the server finds apps and creates no development app.
    """
    tenant = await tenants.create()
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "CONTACTLISTS_LOG_LEVEL": "WARNING", "CONTACTLISTS_PROCESSES": "1"}
    env.pop("CONTACTLISTS_DATABASE_URL", None)
    command = [
        sys.executable, "-m", "contactlists", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--database-url", settings.database_url,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            base_url = f"http://127.0.0.1:{port}"
            await _wait_until_healthy(base_url, process, log_path)
            yield LiveServer(base_url, tenant)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    pytest.fail(f"the server did not answer /healthz within 30 s:\n{log.read_text()}")


async def test_of_concurrent_deletes_on_a_real_server_exactly_one_answers_200(
    live_server: LiveServer,
) -> None:
    tenant = live_server.tenant
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        for round_ in range(ROUNDS):
            name = f"Served {round_}"
            created = await create_list(http, tenant, "v1", name=name)
            before = (await get_list(http, tenant, created["_id"])).json()["data"]

            responses = await asyncio.gather(
                *(delete_list(http, tenant, created["_id"]) for _ in range(CONCURRENT_DELETES))
            )

            _assert_exactly_one_won(list(responses), before, name)
            winner = next(r for r in responses if r.status_code == 200)
            assert winner.json()["data"] == before
            assert_not_found(await get_list(http, tenant, created["_id"]))
        assert await get_all(http, tenant) == []


@pytest.mark.parametrize("intruder_kind", ["other account, same bot", "same account, other bot"])
async def test_lists_of_another_account_or_bot_cannot_be_deleted(
    client: AsyncClient, tenants: TenantFactory, intruder_kind: str
) -> None:
    owner_bot, other_bot = new_bot_id(), new_bot_id()
    owner = await tenants.create(bots=[owner_bot, other_bot])
    if intruder_kind == "other account, same bot":
        intruder = await tenants.create(bots=[owner_bot])
        assert intruder.account_id != owner.account_id
    else:
        intruder = dataclasses.replace(owner, bot=other_bot)
    created = await create_list(client, owner, "v1", name="Private")
    before = (await get_list(client, owner, created["_id"])).json()["data"]

    for family in ("v1", "v2"):
        response = await client.request(
            "DELETE",
            Paths(family, intruder.bot).list(created["_id"]),
            headers=intruder.headers(),
            content=b"",
        )
        assert_not_found(response)

    after = await get_list(client, owner, created["_id"])
    assert after.status_code == 200
    assert after.json()["data"] == before
    assert [item["_id"] for item in await get_all(client, owner)] == [created["_id"]]
    assert (await delete_list(client, owner, created["_id"])).status_code == 200


async def test_deleted_lists_do_not_hold_their_name(client: AsyncClient, tenant: Tenant) -> None:
    paths = Paths("v1", tenant.bot)
    ids: list[str] = []
    for cycle, name in enumerate(["Cycle list", "CYCLE LIST", "cycle list"]):
        created = await create_list(client, tenant, "v1", name=name)
        ids.append(created["_id"])
        duplicate = await client.post(
            paths.create, json={"name": "Cycle List"}, headers=tenant.headers()
        )
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["errors"][0]["reason"] == "duplicate_name"
        if cycle < 2:
            deleted = await delete_list(client, tenant, created["_id"])
            assert deleted.status_code == 200, deleted.text
            assert deleted.json()["message"] == f"Contact list {name} deleted successfully"

    assert len(set(ids)) == 3
    listed = await get_all(client, tenant)
    assert [(item["_id"], item["name"]) for item in listed] == [(ids[2], "cycle list")]
    for old in ids[:2]:
        assert_not_found(await get_list(client, tenant, old))
