"""Who is calling: JWT verification and the scope, bot and account checks of CONTRACT §1–2.

Every route depends on :func:`caller` (through :data:`ReadCaller` or :data:`WriteCaller`),
which turns the request's headers into a :class:`Caller` or raises the matching error.
The checks run in the contract's order: credentials (401), then the request's own
consistency (400), then permissions (403).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Header, Path, Query, Request

from contactlists.apps import service as apps
from contactlists.apps.cache import AppCache, VerifiedApp
from contactlists.config import Settings
from contactlists.errors import Forbidden, InvalidCredentials, ValidationFailed
from contactlists.observability import logs
from contactlists.ratelimit.service import RateLimiter

# Kore.ai bot ids look like st-0603182c-7ffb-53c3-b307-47ca14b9xxxx.
BOT_ID_PATTERN = re.compile(r"^st-[A-Za-z0-9-]{1,100}$")
# What an appId may look like before it is looked up (ours are cs-<uuid>).
APP_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
MAX_SUB_LENGTH = 256


class Access(Enum):
    READ = "read"
    WRITE = "write"


SCOPES_GRANTING = {
    Access.READ: {apps.SCOPE_MANAGE, apps.SCOPE_READ},
    Access.WRITE: {apps.SCOPE_MANAGE},
}


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    account_id: str
    org_id: str
    bot_id: str
    # Recorded as createdBy/updatedBy: the token's sub, else the app id.
    actor: str


def _token_from(auth: str | None, authorization: str | None) -> str:
    if auth:
        return auth.strip()
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    raise InvalidCredentials()


async def verify_token(known_apps: AppCache, token: str, *, leeway: int) -> tuple[VerifiedApp, str]:
    """The app that signed ``token`` and the actor it names; InvalidCredentials otherwise."""
    remembered = await known_apps.find_token(token)
    if remembered is not None:  # verified before, its app unchanged since, not expired
        return remembered
    app, actor, claims = await _verify(known_apps, token, leeway=leeway)
    exp = claims.get("exp")
    # PyJWT refuses a token once exp <= now - leeway.
    known_apps.remember_token(token, app, actor, None if exp is None else float(exp) + leeway)
    return app, actor


async def _verify(
    known_apps: AppCache, token: str, *, leeway: int
) -> tuple[VerifiedApp, str, dict[str, Any]]:
    try:
        # Header and claims in one parse; the signature is checked below with the app's secret.
        parsed = jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidCredentials() from None
    header: dict[str, Any] = parsed["header"]
    client_id = parsed["payload"].get("appId")
    if not isinstance(client_id, str) or not APP_ID_PATTERN.match(client_id):
        raise InvalidCredentials()
    app = await known_apps.find_usable(client_id)
    if app is None or header.get("alg") not in app.algorithms:
        raise InvalidCredentials()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            app.client_secret,
            algorithms=app.algorithms,
            leeway=leeway,
            options={"verify_aud": False, "verify_iss": False},
        )
    except jwt.PyJWTError:
        raise InvalidCredentials() from None
    sub = claims.get("sub")
    if sub is None:
        return app, app.client_id, claims
    if (
        not isinstance(sub, str)
        or not sub.strip()
        or len(sub) > MAX_SUB_LENGTH
        or CONTROL_CHARACTERS.search(sub)
    ):
        raise InvalidCredentials()
    return app, sub, claims


def _account_id_in_request(header: str | None, query: str | None) -> str | None:
    if header is not None and query is not None and header != query:
        raise ValidationFailed.field(
            "accountId", "The accountId header and the accountId query parameter disagree."
        )
    return header if header is not None else query


def _one_value_each(request: Request) -> None:
    """400 for a query parameter given twice.

    It has no single meaning (Starlette reads the last, another reader the first), as a JSON
    body that repeats a key has none.
    """
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen:
            raise ValidationFailed.field(name, f"The query parameter {name} is given twice.")
        seen.add(name)


async def _count_request(request: Request, account_id: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.enabled:
        await limiter.check(account_id)


def _caller_dependency(access: Access) -> Any:
    async def caller(
        request: Request,
        bot: Annotated[str, Path(description="The bot (application) id, `st-…`.")],
        auth: Annotated[str | None, Header(description="The JWT, raw.")] = None,
        authorization: Annotated[
            str | None, Header(description="`Bearer <jwt>`, instead of `auth`.")
        ] = None,
        iid: Annotated[str | None, Header(description="The bot id; must match the path.")] = None,
        account_id_header: Annotated[
            str | None, Header(alias="accountId", description="The caller's account id.")
        ] = None,
        account_id_query: Annotated[
            str | None, Query(alias="accountId", description="The caller's account id.")
        ] = None,
    ) -> Caller:
        token = _token_from(auth, authorization)
        # The app comes from the process's cache (apps/cache.py), or from a short session of
        # its own: no connection is held here while the body is read next.
        # Both from the app's state, not as dependencies: one less for FastAPI to solve at
        # every request (B4).
        settings: Settings = request.app.state.settings
        known_apps: AppCache = request.app.state.app_cache
        app, actor = await verify_token(known_apps, token, leeway=settings.jwt_leeway_seconds)
        logs.note_caller(app.client_id, app.account_id)  # from here on, log lines name them
        # Counted once the account is known and before the route does anything: a 429 has
        # changed nothing, so clients may retry it whatever the method.
        await _count_request(request, app.account_id)
        _one_value_each(request)
        account_id = _account_id_in_request(account_id_header, account_id_query)
        if not BOT_ID_PATTERN.match(bot):
            raise ValidationFailed.field("bot", "The bot id in the path is not a valid bot id.")
        if iid is not None and iid != bot:
            raise Forbidden("The iid header does not match the bot id in the path.")
        if account_id is not None and account_id != app.account_id:
            raise Forbidden("The accountId does not match the app's account.")
        if not SCOPES_GRANTING[access] & app.scopes:
            raise Forbidden("The app's scopes do not allow this request.")
        if app.bots is not None and bot not in app.bots:
            raise Forbidden("The app may not use this bot.")
        return Caller(
            client_id=app.client_id,
            account_id=app.account_id,
            org_id=app.org_id,
            bot_id=bot,
            actor=actor,
        )

    return caller


ReadCaller = Annotated[Caller, Depends(_caller_dependency(Access.READ))]
WriteCaller = Annotated[Caller, Depends(_caller_dependency(Access.WRITE))]
