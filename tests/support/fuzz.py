"""What the Schemathesis run needs: a tenant with real data, and cases aimed at it.

The fuzzer generates every part of a request from the OpenAPI document. Left alone, it would
send random tokens, ids and list names and meet only 401, 404 and 400; so most cases are
given the tenant's credentials and bot, and half of them real ids and list names from data
made beforehand, so that the handlers and the answers behind them run too.
"""

from __future__ import annotations

import enum
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

import anyio
from httpx import ASGITransport, AsyncClient

from contactlists.app import create_app
from contactlists.config import Settings
from tests.support.campaigns import DEFAULT_DNC, create_campaign, sms_body, voice_body
from tests.support.contacts import add_contacts, all_contacts, create_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory


class Access(enum.Enum):
    """How a case authenticates."""

    VALID = "the tenant's token, bot and account"
    AS_GENERATED = "whatever the fuzzer generated (mostly 401)"
    NO_TOKEN = "no auth or authorization header"
    FOREIGN_TOKEN = "a valid token of another account's app"


# Weighted towards a valid caller: that is where most of the code is.
ACCESS_CHOICES = [Access.VALID] * 7 + [Access.AS_GENERATED, Access.NO_TOKEN, Access.FOREIGN_TOKEN]
AUTH_HEADERS = ("auth", "authorization", "iid", "accountid")
ID_PARAMETERS = ("list_id", "contact_id", "campaign_id", "job_id")


@dataclass
class Pool:
    """Ids of one kind: deletes and renames take ``disposable`` ones, the others stay."""

    kept: list[str] = field(default_factory=list)
    disposable: list[str] = field(default_factory=list)

    def pick(self, choice: int, spending: bool) -> str | None:
        ids = self.disposable if spending and self.disposable else self.kept
        return ids[choice % len(ids)] if ids else None


@dataclass
class Seed:
    """A tenant and what it owns; ``stranger`` is a valid app of another account."""

    tenant: Tenant
    stranger: Tenant
    list_names: list[str]
    pools: dict[str, Pool]
    # The list that holds the contacts of the contact_id pool.
    contacts_list: str
    campaign_types: dict[str, str]

    def aim(self, case: Any) -> Access:
        """Gives ``case`` credentials and, every other time, real ids; how it authenticated.

        The choices come from a hash of the generated case, so they are as reproducible as
        the cases themselves (strategies of our own, through ``schema.given``, would switch
        off Schemathesis's coverage phase). Bodies are changed only in cases meant to be
        valid: a case meant to be refused must stay so.
        """
        choice = zlib.crc32(repr((case.operation.label, case)).encode())
        access = ACCESS_CHOICES[choice % len(ACCESS_CHOICES)]
        choice //= len(ACCESS_CHOICES)
        real = choice % 2 == 1
        choice //= 2
        if access is Access.AS_GENERATED:
            return access
        self._aim_path(case, real, choice)
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if real and not negative:
            self._aim_body(case, choice)
        headers = {
            key: value
            for key, value in (case.headers or {}).items()
            if key.lower() not in AUTH_HEADERS
        }
        if access is Access.VALID:
            headers.update(self.tenant.headers())
        elif access is Access.FOREIGN_TOKEN:
            headers["auth"] = self.stranger.token()
        case.headers = headers
        if case.query and "accountId" in case.query:
            case.query["accountId"] = self.tenant.account_id
        return access

    def _aim_path(self, case: Any, real: bool, choice: int) -> None:
        path = case.path_parameters
        if not path:
            return
        if "bot" in path:
            path["bot"] = self.tenant.bot
        if not real:
            return
        for name in ID_PARAMETERS:
            known = self.pools[name].pick(choice, _spends(case))
            if name in path and known:
                path[name] = known
        if "contact_id" in path or case.path.endswith("/contacts/delete"):
            path["list_id"] = self.contacts_list

    def _aim_body(self, case: Any, choice: int) -> None:
        """Names of lists that exist; for campaigns and uploads, every other time a valid body."""
        name = self.list_names[choice % len(self.list_names)]
        body = case.body
        whole = choice % 4 >= 2
        if case.operation.label.endswith("/upload") and whole:
            # Text, not bytes: Schemathesis checks edited bodies against the schema, and sends
            # a `binary` field as a file part either way.
            case.body = {"file": "phoneNumber,firstName\n+14155550177,Ada\n"}
            return
        if not isinstance(body, dict):
            return
        if "contact_list_name" in body:
            body["contact_list_name"] = name
        if isinstance(body.get("contactLists"), list):
            body["contactLists"] = [name]
            if isinstance(body.get("dncLists"), dict):
                body["dncLists"] = {"name": DEFAULT_DNC}
            if whole:
                self._valid_campaign(case, name, choice)

    def _valid_campaign(self, case: Any, list_name: str, choice: int) -> None:
        campaign_id = (case.path_parameters or {}).get("campaign_id")
        kind = self.campaign_types.get(campaign_id, "sms" if choice % 8 >= 4 else "voice")
        make = voice_body if kind == "voice" else sms_body
        case.body = make(f"Fuzzed {secrets.token_hex(4)}", [list_name])
        case.query = {**(case.query or {}), "campaignType": kind}


def _spends(case: Any) -> bool:
    """Whether the case may delete its resource, or rename a list (bodies name lists)."""
    method = case.method.upper()
    return (
        method == "DELETE"
        or case.path.endswith("/contacts/delete")
        or (method == "PUT" and case.path.endswith("/contactList/{list_id}"))
    )


async def _seed(settings: Settings) -> Seed:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://seed") as client,
    ):
        tenants = TenantFactory(app)
        tenant = await tenants.create()
        stranger = await tenants.create()

        async def new_lists(label: str, count: int) -> list[dict[str, Any]]:
            names = [f"Fuzz {label} {secrets.token_hex(3)}" for _ in range(count)]
            return [await create_list(client, tenant, name) for name in names]

        kept_lists = await new_lists("kept", 3)
        disposable_lists = await new_lists("disposable", 3)
        names = [item["name"] for item in kept_lists]
        items = [
            {"phoneNumber": f"+1415555{n:04d}", "firstName": f"F{n}", "tier": "gold"}
            for n in range(30)
        ] + [{"phoneNumber": "not a number"}]
        jobs = [await add_contacts(client, tenant, name, items) for name in names]
        await app.state.workers.run_until_idle()
        contacts = [c["_id"] for c in await all_contacts(client, tenant, kept_lists[0]["_id"])]

        async def new_campaigns(label: str) -> list[str]:
            bodies = [
                voice_body(f"Voice {label} {secrets.token_hex(3)}", [names[0]]),
                sms_body(f"Sms {label} {secrets.token_hex(3)}", [names[1]]),
            ]
            return [(await create_campaign(client, tenant, body))["_id"] for body in bodies]

        kept_campaigns = await new_campaigns("kept")
        disposable_campaigns = await new_campaigns("disposable")
        # Lists in the trash, so that restore has something to bring back.
        trashed = await new_lists("trashed", 2)
        for item in trashed:
            response = await client.delete(
                Paths("v2", tenant.bot).list(item["_id"]), headers=tenant.headers()
            )
            assert response.status_code == 200, response.text
        return Seed(
            tenant=tenant,
            stranger=stranger,
            list_names=names,
            contacts_list=kept_lists[0]["_id"],
            campaign_types=dict(
                zip(kept_campaigns + disposable_campaigns, ["voice", "sms"] * 2, strict=True)
            ),
            pools={
                "list_id": Pool(
                    kept=[item["_id"] for item in kept_lists + trashed],
                    disposable=[item["_id"] for item in disposable_lists],
                ),
                "contact_id": Pool(kept=contacts[:15], disposable=contacts[15:]),
                "campaign_id": Pool(kept=kept_campaigns, disposable=disposable_campaigns),
                "job_id": Pool(kept=jobs),
            },
        )


def seed(settings: Settings) -> Seed:
    """Makes the data on its own engine, closed again before the fuzzed app starts."""
    return anyio.run(_seed, settings)
