"""Verified apps kept in the process, and forgotten within a bound when any app changes.

Every authenticated request needs its app (secret, account, bots, scopes). Reading it is a
statement, a pooled connection's checkout and, on PostgreSQL, four round trips; it was the
largest single cost of a cheap read (B4). :class:`AppCache` keeps the apps it has read.

A revocation must still reach every process quickly, whichever process (or the CLI, or a
statement typed by hand) makes it. The ``app_generation`` row counts every UPDATE and DELETE
of ``app`` (a trigger, in the changing transaction itself). Before answering from its cache, a
process makes sure it read that count less than ``check_seconds`` ago (0.25 s by default);
when the count moved, it forgets every app. So a request that starts more than
``check_seconds`` after a revocation committed (plus the time of one read of the count) is
refused, in every process. If the count cannot be read, the request fails as any request does
when the database is away (503): nothing is served from a cache that cannot be checked.

Only usable apps are cached; an unknown or revoked clientId is read from the database every
time, as before. The cache holds at most ``max_entries`` apps and is emptied when full.

The tokens verified with a cached app are remembered too (:meth:`AppCache.remember_token`), so a
client that sends the same token again costs no signature check: a remembered token is answered
only while its app is in the cache (so never after the app changed) and until its ``exp`` (plus
the leeway) has passed. A token that failed verification is never remembered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contactlists.apps import repository

MAX_ENTRIES = 10_000
MAX_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class VerifiedApp:
    """What authentication needs of a usable app."""

    client_id: str
    client_secret: str
    account_id: str
    org_id: str
    # None: every bot of the account.
    bots: frozenset[str] | None
    scopes: frozenset[str]
    algorithms: tuple[str, ...]


class AppCache:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        check_seconds: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.check_seconds = check_seconds
        self.max_entries = max_entries
        self.clock = clock
        self.wall_clock = wall_clock
        self.max_tokens = max_tokens
        self._apps: dict[str, VerifiedApp] = {}
        # token -> (clientId, actor, valid until: exp + leeway, or None without exp)
        self._tokens: dict[str, tuple[str, str, float | None]] = {}
        self._generation: int | None = None
        self._next_check = float("-inf")
        self._checking = asyncio.Lock()

    async def find_usable(self, client_id: str) -> VerifiedApp | None:
        """The app ``client_id`` names, unless it is unknown or revoked."""
        if self.clock() >= self._next_check:
            await self._check_generation()
        app = self._apps.get(client_id)
        if app is not None:
            return app
        generation_before = self._generation
        async with self.sessionmaker() as session:
            row = await repository.usable_columns(session, client_id)
        if row is None:
            return None
        app = VerifiedApp(
            client_id=row.client_id,
            client_secret=row.client_secret,
            account_id=row.account_id,
            org_id=row.org_id,
            bots=frozenset(row.bots) if row.bots is not None else None,
            scopes=frozenset(row.scopes),
            algorithms=tuple(row.algorithms),
        )
        # Kept only when no check saw a change meanwhile: a row read before a revocation must
        # not outlive the check that forgot the cache.
        if self._generation == generation_before:
            if len(self._apps) >= self.max_entries:
                self._apps.clear()
                self._tokens.clear()
            self._apps[client_id] = app
        return app

    async def find_token(self, token: str) -> tuple[VerifiedApp, str] | None:
        """The app and actor of a token verified before, if its app is cached and it is valid."""
        if self.clock() >= self._next_check:
            await self._check_generation()
        remembered = self._tokens.get(token)
        if remembered is None:
            return None
        client_id, actor, valid_until = remembered
        app = self._apps.get(client_id)
        if app is None or (valid_until is not None and self.wall_clock() >= valid_until):
            del self._tokens[token]
            return None
        return app, actor

    def remember_token(
        self, token: str, app: VerifiedApp, actor: str, valid_until: float | None
    ) -> None:
        """``token`` was verified with ``app`` (signature, algorithm, claims) for ``actor``."""
        if self._apps.get(app.client_id) is not app:
            return  # not cached (or replaced since): the token is verified again next time
        if len(self._tokens) >= self.max_tokens:
            self._tokens.clear()
        self._tokens[token] = (app.client_id, actor, valid_until)

    def __len__(self) -> int:
        return len(self._apps)

    async def _check_generation(self) -> None:
        async with self._checking:
            started = self.clock()
            if started < self._next_check:  # another request checked while this one waited
                return
            async with self.sessionmaker() as session:
                generation = await repository.generation(session)
            if generation != self._generation:
                self._apps.clear()
                self._tokens.clear()
                self._generation = generation
            # Counted from before the read: the read reflects every commit made before it.
            self._next_check = started + self.check_seconds
