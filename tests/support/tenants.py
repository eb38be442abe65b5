"""Test tenants: apps on fresh accounts, their tokens and Kore.ai-style headers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI

from contactlists.apps import service as apps
from contactlists.tokens import mint_token


def new_bot_id() -> str:
    return f"st-{uuid.uuid4()}"


@dataclass
class Tenant:
    client_id: str
    client_secret: str
    account_id: str
    org_id: str
    bot: str
    bots: list[str] | None = field(default=None)

    def token(self, **kwargs: object) -> str:
        return mint_token(self.client_id, self.client_secret, **kwargs)  # type: ignore[arg-type]

    def headers(self, **overrides: str) -> dict[str, str]:
        """The headers of Kore.ai's samples: auth, iid and accountId."""
        headers = {
            "auth": self.token(sub="u-tester"),
            "iid": self.bot,
            "accountId": self.account_id,
        }
        headers.update(overrides)
        return headers


class TenantFactory:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def create(
        self,
        *,
        scopes: Sequence[str] = (apps.SCOPE_MANAGE,),
        bots: Sequence[str] | None = None,
        all_bots: bool = False,
        account_id: str | None = None,
        algorithms: Sequence[str] = ("HS256",),
    ) -> Tenant:
        """An app on a fresh account (or ``account_id``); by default it may use one new bot."""
        allowed = None if all_bots else list(bots or [new_bot_id()])
        async with self.app.state.sessionmaker() as session, session.begin():
            created = await apps.create(
                session,
                apps.NewApp(
                    name="test app",
                    account_id=account_id,
                    bots=allowed,
                    scopes=scopes,
                    algorithms=algorithms,
                ),
            )
        return Tenant(
            client_id=created.client_id,
            client_secret=created.client_secret,
            account_id=created.account_id,
            org_id=created.org_id,
            bot=allowed[0] if allowed else new_bot_id(),
            bots=allowed,
        )

    async def revoke(self, tenant: Tenant) -> None:
        async with self.app.state.sessionmaker() as session, session.begin():
            await apps.revoke(session, tenant.client_id)
