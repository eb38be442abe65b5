"""Kore.ai's own addContacts samples, sent byte for byte, are stored; garbage still is not.

Kore.ai documents addContacts with the number "9122333445566" (India's code, a length India's
numbers have, but no pattern libphonenumber knows) and, in an older sample, with "first name",
"last name" and "email" keys. A client written from those pages must see every row stored:
the number is kept unverified (``phoneVerified`` false, counted in the job's ``unverified``),
and the other keys become custom fields. Numbers written with their country code but no "+"
are read as such when they are no national number of the list's region.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.contacts import ADD_CONTACTS, all_contacts, create_list, job
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]

# Kore.ai's current sample request body, as its page prints it.
CURRENT_SAMPLE = b"""{
    "contact_list_name": "Renewal Due - July 2025",
    "data": [{
        "phoneNumber": "9122333445566"
    }]
}"""

# Its older sample, with keys that are no field of ours.
OLDER_SAMPLE = b"""{
    "contact_list_name": "Contact list of Passive June 27",
    "data": [{
        "phoneNumber": "9122333445566",
        "first name": "John",
        "last name": "Doe",
        "email": "john.doe@abc.com"
    }]
}"""


async def send_verbatim(client: AsyncClient, tenant: Tenant, body: bytes) -> str:
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        content=body,
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Adding contacts to public list is in progress"
    job_id: str = response.json()["jobId"]
    return job_id


async def test_the_current_sample_is_stored_unverified(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, "Renewal Due - July 2025")
    job_id = await send_verbatim(client, tenant, CURRENT_SAMPLE)
    assert await run_jobs() == 1

    ended = await job(client, tenant, job_id)
    counts = {key: ended[key] for key in ("state", "total", "inserted", "invalid", "unverified")}
    assert counts == {
        "state": "completed",
        "total": 1,
        "inserted": 1,
        "invalid": 0,
        "unverified": 1,
    }
    assert ended["errors"] == []
    (stored,) = await all_contacts(client, tenant, target["_id"])
    assert (stored["phoneNumber"], stored["phoneVerified"], stored["timeZone"]) == (
        "+9122333445566",
        False,
        "Asia/Calcutta",
    )


async def test_the_older_sample_keeps_its_other_keys_as_custom_fields(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs
) -> None:
    target = await create_list(client, tenant, "Contact list of Passive June 27")
    job_id = await send_verbatim(client, tenant, OLDER_SAMPLE)
    assert await run_jobs() == 1

    assert (await job(client, tenant, job_id))["inserted"] == 1
    (stored,) = await all_contacts(client, tenant, target["_id"])
    assert stored["phoneNumber"] == "+9122333445566"
    assert stored["fields"] == {
        "first name": "John",
        "last name": "Doe",
        "email": "john.doe@abc.com",
    }


ITEMS: list[dict[str, Any]] = [
    {"phoneNumber": "919876543210"},  # 1: India's code without "+": valid, verified
    {"phoneNumber": "(212) 555-0100"},  # 2: a US number of the list's region
    {"phoneNumber": "+44 20 7946 000"},  # 3: plausible, not valid: unverified
    {"phoneNumber": "12"},  # 4
    {"phoneNumber": "abc"},  # 5
    {"phoneNumber": "+1 000"},  # 6
    {"phoneNumber": "555 555 5555"},  # 7: a US length, no US number, no "+": refused
]


async def test_numbers_without_plus_and_garbage_as_users_write_them(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    target = await create_list(client, tenant, unique_name)
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": unique_name, "data": ITEMS},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    assert await run_jobs() == 1

    ended = await job(client, tenant, response.json()["jobId"])
    assert (ended["inserted"], ended["invalid"], ended["unverified"]) == (3, 4, 1)
    assert [(e["row"], e["code"]) for e in ended["errors"]] == [
        (row, "invalid_phone_number") for row in (4, 5, 6, 7)
    ]
    stored = await all_contacts(client, tenant, target["_id"])
    assert [(c["phoneNumber"], c["phoneVerified"]) for c in stored] == [
        ("+919876543210", True),
        ("+12125550100", True),
        ("+44207946000", False),
    ]


async def test_an_unverified_number_reads_back_as_itself(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    """Its E.164 form, sent again, is the same unverified number: a duplicate, not a new one."""
    target = await create_list(client, tenant, unique_name)
    for number in ("9122333445566", "+9122333445566"):
        response = await client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": unique_name, "data": [{"phoneNumber": number}]},
            headers=tenant.headers(),
        )
        assert response.status_code == 200, response.text
    assert await run_jobs() == 2

    stored = await all_contacts(client, tenant, target["_id"])
    assert [c["phoneNumber"] for c in stored] == ["+9122333445566"]
