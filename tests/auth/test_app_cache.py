"""The process's cache of verified apps (apps/cache.py): what it keeps, and how soon a change to
``app`` made anywhere empties it. The two-process case is test_revocation_across_processes."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from contactlists.apps import repository
from contactlists.apps.cache import AppCache
from contactlists.auth import verify_token
from contactlists.errors import InvalidCredentials
from contactlists.models.apps import App
from contactlists.models.base import utcnow
from contactlists.tokens import mint_token
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def generation(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        return await repository.generation(session)


async def revoke_by_hand(app: FastAPI, client_id: str) -> None:
    """As an operator's own UPDATE would: not through the service."""
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(App).where(App.client_id == client_id).values(revoked_at=utcnow())
        )


async def test_every_update_and_delete_of_an_app_moves_the_counter(
    app: FastAPI, tenants: TenantFactory
) -> None:
    tenant = await tenants.create()
    other = await tenants.create()
    start = await generation(app)

    await revoke_by_hand(app, tenant.client_id)
    after_update = await generation(app)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(delete(App).where(App.client_id == other.client_id))
    after_delete = await generation(app)
    await tenants.create()  # an insert changes no cached app

    assert after_update > start
    assert after_delete > after_update
    assert await generation(app) == after_delete


async def test_a_cached_app_is_forgotten_once_the_counter_is_due(
    app: FastAPI, tenant: Tenant
) -> None:
    clock = Clock()
    cache = AppCache(app.state.sessionmaker, check_seconds=0.25, clock=clock)
    found = await cache.find_usable(tenant.client_id)
    assert found is not None
    assert (found.client_id, found.account_id, found.client_secret) == (
        tenant.client_id,
        tenant.account_id,
        tenant.client_secret,
    )
    assert found.bots == frozenset(tenant.bots or ())

    await revoke_by_hand(app, tenant.client_id)
    clock.now += 0.2  # within the interval: served from the cache, no statement
    assert await cache.find_usable(tenant.client_id) == found

    clock.now += 0.05  # the interval is over: the counter is read, the cache emptied
    assert await cache.find_usable(tenant.client_id) is None
    assert len(cache) == 0


async def test_unknown_and_revoked_apps_are_not_kept(app: FastAPI, tenants: TenantFactory) -> None:
    revoked = await tenants.create()
    await tenants.revoke(revoked)
    cache = AppCache(app.state.sessionmaker, check_seconds=3600, clock=Clock())

    assert await cache.find_usable("cs-unknown") is None
    assert await cache.find_usable(revoked.client_id) is None
    assert len(cache) == 0


async def test_a_row_read_across_a_change_is_not_kept(app: FastAPI, tenant: Tenant) -> None:
    """A check that saw the counter move while an app was being read wins: the row it read may
    predate the change, so it answers this request but is not cached."""
    clock = Clock()
    cache = AppCache(app.state.sessionmaker, check_seconds=0.25, clock=clock)
    assert await cache.find_usable(tenant.client_id) is not None  # the counter is known now
    cache._apps.clear()
    original = repository.usable_columns

    async def read_then_a_change_is_seen(session: object, client_id: str) -> object:
        row = await original(session, client_id)  # type: ignore[arg-type]
        cache._generation = -1  # as if another request's check saw a change meanwhile
        return row

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repository, "usable_columns", read_then_a_change_is_seen)
        assert await cache.find_usable(tenant.client_id) is not None
    assert len(cache) == 0


async def test_the_cache_is_bounded(app: FastAPI, tenants: TenantFactory) -> None:
    cache = AppCache(app.state.sessionmaker, check_seconds=3600, max_entries=2, clock=Clock())
    for _ in range(5):
        tenant = await tenants.create()
        assert await cache.find_usable(tenant.client_id) is not None
        assert len(cache) <= 2


# --- tokens verified once ----------------------------------------------------------------------


def refuse_any_decode(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the token was verified again")


async def test_a_token_verified_once_is_not_verified_again(
    app: FastAPI, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AppCache(app.state.sessionmaker, check_seconds=3600, clock=Clock())
    token = tenant.token(sub="u-once", expires_in=600)
    first = await verify_token(cache, token, leeway=60)

    monkeypatch.setattr(jwt, "decode", refuse_any_decode)
    monkeypatch.setattr(jwt, "decode_complete", refuse_any_decode)
    again = await verify_token(cache, token, leeway=60)

    assert again == first
    assert again[1] == "u-once"


async def test_a_remembered_token_still_expires(app: FastAPI, tenant: Tenant) -> None:
    wall = Clock()
    wall.now = time.time()
    cache = AppCache(app.state.sessionmaker, check_seconds=3600, clock=Clock(), wall_clock=wall)
    token = tenant.token(expires_in=600)
    await verify_token(cache, token, leeway=60)

    wall.now += 600 + 59  # within the leeway: still remembered
    assert await cache.find_token(token) is not None
    wall.now += 1  # exp + leeway: what PyJWT refuses
    assert await cache.find_token(token) is None


async def test_a_remembered_token_of_a_revoked_app_is_refused(app: FastAPI, tenant: Tenant) -> None:
    clock = Clock()
    cache = AppCache(app.state.sessionmaker, check_seconds=0.25, clock=clock)
    token = tenant.token(sub="u-revoked")
    await verify_token(cache, token, leeway=60)

    await revoke_by_hand(app, tenant.client_id)
    clock.now += 0.25

    with pytest.raises(InvalidCredentials):
        await verify_token(cache, token, leeway=60)


async def test_a_token_that_failed_is_not_remembered(app: FastAPI, tenant: Tenant) -> None:
    cache = AppCache(app.state.sessionmaker, check_seconds=3600, clock=Clock())
    forged = mint_token(tenant.client_id, "not-the-secret-" * 4)

    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await verify_token(cache, forged, leeway=60)
    assert await cache.find_token(forged) is None
