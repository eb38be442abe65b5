"""The ``auth`` header: a token the client mints from the app's secret, or one it was given."""

from __future__ import annotations

import time
from collections.abc import Callable

from contactlists.tokens import mint_token

# Mint a new token this long before the current one expires, so that a request in flight
# (or a server clock a little ahead) never sees it expired; CONTRACT §2 allows 60 s of skew.
REFRESH_MARGIN_SECONDS = 120.0


class TokenSource:
    """A JWT for each request, minted from the app's credentials and renewed before it expires."""

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        sub: str | None = None,
        lifetime_seconds: int = 3600,
        algorithm: str = "HS256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if token is None and not (client_id and client_secret):
            raise ValueError("give client_id and client_secret, or an existing token")
        if lifetime_seconds <= REFRESH_MARGIN_SECONDS:
            raise ValueError(f"lifetime_seconds must exceed {REFRESH_MARGIN_SECONDS:.0f}")
        self._client_id = client_id
        self._client_secret = client_secret
        self._fixed = token
        self._sub = sub
        self._lifetime = lifetime_seconds
        self._algorithm = algorithm
        self._clock = clock
        self._minted: str | None = None
        self._renew_at = 0.0

    def token(self) -> str:
        if self._fixed is not None:
            return self._fixed
        now = self._clock()
        if self._minted is None or now >= self._renew_at:
            assert self._client_id is not None
            assert self._client_secret is not None
            self._minted = mint_token(
                self._client_id,
                self._client_secret,
                sub=self._sub,
                expires_in=self._lifetime,
                algorithm=self._algorithm,
                now=now,
            )
            self._renew_at = now + self._lifetime - REFRESH_MARGIN_SECONDS
        return self._minted
