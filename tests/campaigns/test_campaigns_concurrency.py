"""A campaign never references a deleted list (CONTRACT §4.5, §5), under real concurrency.

A campaign write racing the deletion of a list it names must either win (the campaign
exists, the list survives) or lose (the campaign write is refused because the list is
gone). Each round races the two through the in-process app on a real database, then
checks the invariant in the database itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from contactlists.auth import Caller
from contactlists.lists import repository as lists_repository
from contactlists.lists.dnc import DEFAULT_DNC_NAME, ensure_default_dnc
from contactlists.models.base import utcnow
from contactlists.models.campaigns import CampaignList
from contactlists.models.lists import ContactList
from tests.support.campaigns import CampaignPaths, create_campaign, post_campaign, voice_body
from tests.support.contacts import create_list
from tests.support.tenants import Tenant

pytestmark = pytest.mark.anyio

ROUNDS = 30


async def references_to_deleted_lists(app: FastAPI, account_id: str) -> int:
    async with app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CampaignList)
            .join(
                ContactList,
                (ContactList.account_id == CampaignList.account_id)
                & (ContactList.id == CampaignList.list_id),
            )
            .where(CampaignList.account_id == account_id, ContactList.deleted_at.is_not(None))
        )
    return count or 0


async def guarded_delete(app: FastAPI, tenant: Tenant, list_id: str) -> bool:
    """The list delete's protocol (CONTRACT §4.5), by itself: lock the row, refuse if in use.

    Written here rather than called through the API so that this test checks the campaign
    side's locking against the protocol whatever the state of the delete route.
    """
    async with app.state.sessionmaker() as session, session.begin():
        locked = await lists_repository.lock_live(
            session, account_id=tenant.account_id, bot_id=tenant.bot, list_id=list_id
        )
        assert locked is not None
        in_use = await session.scalar(
            select(func.count())
            .select_from(CampaignList)
            .where(CampaignList.account_id == tenant.account_id, CampaignList.list_id == list_id)
        )
        if in_use:
            return False
        await session.execute(
            update(ContactList)
            .where(ContactList.account_id == tenant.account_id, ContactList.id == list_id)
            .values(deleted_at=utcnow())
        )
        return True


async def write_campaign(
    client: AsyncClient, tenant: Tenant, kind: str, name: str, lists: list[str], existing: str
) -> Any:
    if kind == "create":
        return await post_campaign(client, tenant, "v2", voice_body(name, lists), "voice")
    return await client.put(
        CampaignPaths("v2", tenant.bot).campaign(existing),
        params={"campaignType": "voice"},
        json=voice_body(name, lists),
        headers=tenant.headers(),
    )


@pytest.mark.parametrize("kind", ["create", "update"])
async def test_campaign_writes_racing_a_guarded_delete_never_reference_a_deleted_list(
    app: FastAPI, client: AsyncClient, tenant: Tenant, kind: str
) -> None:
    await create_list(client, tenant, "Stable")
    existing = await create_campaign(client, tenant, voice_body("Existing", ["Stable"]))
    outcomes: set[tuple[int, bool]] = set()
    for round_ in range(ROUNDS):
        contested = await create_list(client, tenant, f"Contested {round_}")

        written, deleted = await asyncio.gather(
            write_campaign(
                client,
                tenant,
                kind,
                f"{kind} {round_}",
                ["Stable", f"Contested {round_}"],
                existing["_id"],
            ),
            guarded_delete(app, tenant, contested["_id"]),
        )

        # Either the campaign won and the list stays, or the list went and the write failed.
        outcome = (written.status_code, deleted)
        assert outcome in {(200, False), (400, True)}, (outcome, written.text)
        if written.status_code == 400:
            assert written.json()["errors"][0]["field"] == "contactLists"
        assert await references_to_deleted_lists(app, tenant.account_id) == 0
        outcomes.add(outcome)
    assert outcomes


async def test_campaign_create_racing_the_delete_route_never_references_a_deleted_list(
    app: FastAPI, client: AsyncClient, tenant: Tenant
) -> None:
    for round_ in range(ROUNDS):
        contested = await create_list(client, tenant, f"Contested {round_}")

        created, deleted = await asyncio.gather(
            post_campaign(
                client, tenant, "v2", voice_body(f"C {round_}", [f"Contested {round_}"]), "voice"
            ),
            client.delete(
                f"/campaign/api/v2/public/{tenant.bot}/campaign/contactList/{contested['_id']}",
                headers=tenant.headers(),
            ),
        )

        outcome = (created.status_code, deleted.status_code)
        assert outcome in {(200, 409), (400, 200)}, (outcome, created.text, deleted.text)
        assert await references_to_deleted_lists(app, tenant.account_id) == 0


async def test_concurrent_first_uses_make_one_default_dnc(app: FastAPI, tenant: Tenant) -> None:
    caller = Caller(
        client_id=tenant.client_id,
        account_id=tenant.account_id,
        org_id=tenant.org_id,
        bot_id=tenant.bot,
        actor="u-tester",
    )

    async def first_use() -> str:
        async with app.state.sessionmaker() as session, session.begin():
            found = await ensure_default_dnc(session, caller, "US")
            assert found is not None
            return found.id

    ids = await asyncio.gather(*(first_use() for _ in range(12)))

    assert len(set(ids)) == 1
    async with app.state.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(ContactList).where(
                    ContactList.account_id == tenant.account_id,
                    ContactList.bot_id == tenant.bot,
                )
            )
        ).all()
    assert [(row.id, row.name, row.list_type) for row in rows] == [
        (ids[0], DEFAULT_DNC_NAME, "dnc")
    ]
    assert rows[0].is_global_dnc is True
    assert rows[0].is_default is True
