"""Apps: the credentials clients sign their JWTs with (CONTRACT §2)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.apps import repository
from contactlists.models.apps import App
from contactlists.models.base import utcnow
from contactlists.tokens import ALGORITHMS

SCOPE_MANAGE = "campaign-management"
SCOPE_READ = "campaign-read"
SCOPES = (SCOPE_MANAGE, SCOPE_READ)
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
# 64 bytes: the key length RFC 7518 asks of HS512, and more than HS256 needs.
SECRET_BYTES = 64


class AppInputError(ValueError):
    """An app could not be created as asked; the message says why."""


class UnknownApp(LookupError):
    pass


@dataclass(frozen=True)
class NewApp:
    name: str
    account_id: str | None = None
    bots: Sequence[str] | None = None
    scopes: Sequence[str] = (SCOPE_MANAGE,)
    algorithms: Sequence[str] = ("HS256",)


def _validated(new: NewApp) -> NewApp:
    if not new.name.strip():
        raise AppInputError("the app needs a name")
    if new.account_id is not None and not ACCOUNT_ID_PATTERN.match(new.account_id):
        raise AppInputError("the account id must be 24 lower-case hex characters")
    if bad := sorted(set(new.scopes) - set(SCOPES)):
        raise AppInputError(f"unknown scope(s) {', '.join(bad)}; known: {', '.join(SCOPES)}")
    if not new.scopes:
        raise AppInputError("the app needs at least one scope")
    if bad := sorted(set(new.algorithms) - set(ALGORITHMS)):
        raise AppInputError(
            f"unknown algorithm(s) {', '.join(bad)}; known: {', '.join(ALGORITHMS)}"
        )
    if not new.algorithms:
        raise AppInputError("the app needs at least one algorithm")
    if new.bots is not None and not new.bots:
        raise AppInputError("give at least one bot, or allow all bots")
    return new


async def create(session: AsyncSession, new: NewApp) -> App:
    new = _validated(new)
    app = App(
        client_id=f"cs-{uuid.uuid4()}",
        client_secret=secrets.token_urlsafe(SECRET_BYTES),
        name=new.name.strip(),
        account_id=new.account_id or secrets.token_hex(12),
        org_id=f"o-{uuid.uuid4()}",
        bots=list(dict.fromkeys(new.bots)) if new.bots is not None else None,
        scopes=list(dict.fromkeys(new.scopes)),
        algorithms=list(dict.fromkeys(new.algorithms)),
        created_at=utcnow(),
        revoked_at=None,
    )
    await repository.add(session, app)
    return app


async def revoke(session: AsyncSession, client_id: str) -> App:
    app = await repository.get(session, client_id)
    if app is None:
        raise UnknownApp(client_id)
    if app.revoked_at is None:
        app.revoked_at = utcnow()
        await session.flush()
    return app


async def list_apps(session: AsyncSession) -> Sequence[App]:
    return await repository.all_apps(session)


async def find_usable(session: AsyncSession, client_id: str) -> App | None:
    """The app named by a token, unless it is unknown or revoked."""
    app = await repository.get(session, client_id)
    return app if app is not None and app.revoked_at is None else None


async def any_exists(session: AsyncSession) -> bool:
    return await repository.any_exists(session)
