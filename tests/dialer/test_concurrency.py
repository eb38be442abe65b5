"""Many dialers on one campaign (CONTRACT §9): each contact handed out once per attempt.

The campaign's size is ``CONTACTLISTS_TEST_DIALER_CONTACTS`` (default 10,000; the issue's
acceptance run uses 100,000).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.dialer.support import Clock, Dialing, dialing, hold_clock
from tests.support.campaigns import trigger
from tests.support.contacts import get_list
from tests.support.fill import fill_list
from tests.support.tenants import Tenant

# Eight dialers contend for one database for a while: run alone, after the parallel part.
pytestmark = [pytest.mark.anyio, pytest.mark.serial]
Jobs = Callable[[], Awaitable[int]]
DIALERS = 8
SIZE = int(os.environ.get("CONTACTLISTS_TEST_DIALER_CONTACTS", "10000"))


async def draw(run: Dialing, dialer: str, unreported: list[dict[str, Any]]) -> list[Any]:
    """Draw until nothing is left; report every contact but every tenth (left to expire)."""
    drawn: list[Any] = []
    while batch := await run.next(limit=100, leaseSeconds=3600, dialerId=dialer):
        drawn.extend((c["contactId"], c["attempt"]) for c in batch)
        keep = [c for c in batch if int(c["phoneNumber"][-1]) != 7]
        unreported.extend(c for c in batch if int(c["phoneNumber"][-1]) == 7)
        if keep:
            await run.report(keep, "completed")
    return drawn


async def test_eight_dialers_share_a_campaign_without_handing_a_contact_twice(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: Jobs
) -> None:
    clock: Clock = hold_clock(app)
    run = await dialing(client, tenant, run_jobs, [], start=False)
    lists = await client.get(
        f"{run.prefix.rsplit('/', 1)[0]}/contactList/getAllListDetails", headers=tenant.headers()
    )
    list_id = next(item["_id"] for item in lists.json()["data"] if item["name"] == "Renewals")
    await fill_list(app.state.sessionmaker, tenant.account_id, list_id, SIZE)
    assert (await get_list(client, tenant, list_id))["totalRecordCount"] == SIZE
    assert (await trigger(client, tenant, run.campaign_id, "play")).status_code == 200

    unreported: list[dict[str, Any]] = []
    rounds = await asyncio.gather(*(draw(run, f"dialer-{n}", unreported) for n in range(DIALERS)))
    handed = Counter(contact for drawn in rounds for contact, _ in drawn)
    assert len(handed) == SIZE  # none lost
    assert max(handed.values()) == 1  # none twice
    assert {attempt for drawn in rounds for _, attempt in drawn} == {1}
    assert len(unreported) == SIZE // 10

    # The unreported leases run out: exactly those contacts come back, no attempt counted.
    clock.advance(seconds=3600)
    again: list[dict[str, Any]] = []
    second = await asyncio.gather(*(draw(run, f"dialer-{n}", again) for n in range(DIALERS)))
    back = Counter(contact for drawn in second for contact, _ in drawn)
    assert set(back) == {c["contactId"] for c in unreported}
    assert max(back.values()) == 1
    assert {attempt for drawn in second for _, attempt in drawn} == {1}
    for start in range(0, len(again), 1000):
        await run.report(again[start : start + 1000], "completed")
    summary = await run.summary()
    assert (summary["total"], summary["done"], summary["leased"]) == (SIZE, SIZE, 0)
