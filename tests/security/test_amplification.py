"""Errors are bounded: a hostile body gets a short answer and costs little memory.

Before, one 5 MB getAllCampaignDetails body with a million bad filter values got a 213 MB 400
answer (0.26 → 2.1 GB of server memory), and addContacts with 3M bad items a 319 MB one: the
10,000-item limit was checked after every item was validated.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

from contactlists.errors import MAX_PROBLEMS_LISTED
from tests.support.campaigns import CampaignPaths
from tests.support.contacts import ADD_CONTACTS, add_contacts, create_list, job
from tests.support.envelope import assert_failure
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

MAX_ANSWER = 64 * 1024
MAX_GROWTH = 50 * 1024 * 1024


async def measured(send: Callable[[], Awaitable[Response]]) -> tuple[Response, int]:
    """The answer, and the peak of Python memory allocated while it was made (bytes)."""
    tracemalloc.start()
    try:
        response = await send()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


def json_body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


async def test_a_million_bad_filter_values_get_a_short_answer(
    client: AsyncClient, tenant: Tenant
) -> None:
    body = json_body({"type": "voice", "filters": {"status": ["x"] * 1_000_000}})
    assert len(body) > 4_000_000

    response, peak = await measured(
        lambda: client.post(
            CampaignPaths("v2", tenant.bot).get_all,
            content=body,
            headers={**tenant.headers(), "content-type": "application/json"},
        )
    )

    assert_failure(response, 400, "validation_error")
    assert len(response.content) <= MAX_ANSWER
    assert peak < MAX_GROWTH, peak


async def test_three_million_bad_items_are_refused_before_any_is_validated(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Target")
    body = json_body({"contact_list_name": "Target", "data": [0] * 3_000_000})

    response, peak = await measured(
        lambda: client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            content=body,
            headers={**tenant.headers(), "content-type": "application/json"},
        )
    )

    errors = assert_failure(response, 400, "validation_error")
    assert len(errors) == 1
    assert "at most 10000" in errors[0]["msg"]
    assert len(response.content) <= MAX_ANSWER
    assert peak < MAX_GROWTH, peak


async def test_an_answer_lists_at_most_a_hundred_problems_and_counts_them_all(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Target")

    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": "Target", "data": [0] * 5_000},
        headers=tenant.headers(),
    )

    errors = assert_failure(response, 400, "validation_error")
    assert len(errors) == MAX_PROBLEMS_LISTED
    assert response.json()["message"].startswith(
        f"The request has 5000 problems (the first {MAX_PROBLEMS_LISTED} are listed)"
    )
    assert len(response.content) <= MAX_ANSWER


async def test_a_list_has_at_most_150_columns(
    client: AsyncClient, tenant: Tenant, run_jobs: Callable[[], Awaitable[int]]
) -> None:
    created = await create_list(client, tenant, "Wide")
    items = [
        {"phoneNumber": f"+1202555{n:04d}", **{f"f{n}_{k}": "v" for k in range(100)}}
        for n in range(3)
    ]
    job_id = await add_contacts(client, tenant, "Wide", items)
    await run_jobs()

    report = await job(client, tenant, job_id)
    assert report["inserted"] == 1, report
    assert report["invalid"] == 2
    assert {error["code"] for error in report["errors"]} == {"too_many_fields"}
    listed = await client.get(
        f"/campaign/api/v2/public/{tenant.bot}/campaign/contactList/{created['_id']}",
        headers=tenant.headers(),
    )
    assert len(listed.json()["data"]["columns"]) == 100
