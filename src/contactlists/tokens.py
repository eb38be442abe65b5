"""Minting the JWTs that CONTRACT §2 accepts. Imports only PyJWT, so the SDK can use it."""

from __future__ import annotations

import time
from typing import Any

import jwt

# The signing algorithms an app may allow (CONTRACT §2).
ALGORITHMS = ("HS256", "HS512")


def mint_token(
    client_id: str,
    client_secret: str,
    *,
    sub: str | None = None,
    expires_in: int | None = 3600,
    algorithm: str = "HS256",
    now: float | None = None,
) -> str:
    """A token for ``client_id``, signed with its secret, in Kore.ai's documented shape.

    ``expires_in=None`` leaves out ``exp``, as Kore.ai's own recipe does.
    """
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"appId": client_id, "iat": issued}
    if sub is not None:
        claims["sub"] = sub
    if expires_in is not None:
        claims["exp"] = issued + expires_in
    return jwt.encode(claims, client_secret, algorithm=algorithm)
