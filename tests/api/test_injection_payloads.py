"""SQL-injection and path-traversal payloads in every string field and path parameter.

Each payload goes into every string field of list create and update, addContacts (list name,
every contact field, custom field names and values), campaign create (name, description, list
references), the search, type and cursor query parameters, and every path parameter (list,
contact, job and campaign ids, the bot) of both path families. Every answer is 2xx — and then
the value reads back exactly as stored, since a list named ``'; DROP TABLE contact_list; --`` is
a fine name — or 4xx with the error envelope; never 5xx. Afterwards every table is still there
and another tenant's data is unchanged.

The requests of one backend are one test: ~1,500 in-process requests, a few seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import inspect

from tests.support.campaigns import CampaignPaths, voice_body
from tests.support.contacts import ADD_CONTACTS, all_contacts, job
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
FAMILIES = ("v1", "v2")

PAYLOADS = [
    "' OR 1=1 --",
    "'; DROP TABLE contact_list; --",
    "Robert'); DROP TABLE contact;--",
    '" OR ""="',
    "1; SELECT pg_sleep(10)",
    "' UNION SELECT client_secret FROM app --",
    "%27",
    "%",
    "_",
    "\\x00",
    "\x00",
    "a\x00b",
    "%00",
    "../../etc/passwd",
    "..%2f..%2f",
    "%2e%2e/",
    "..",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "\\\\server\\share",
    "x" * 5000,
    "\u202eevil\u202c.csv",
    "zero\u200bwidth\u200d\ufeff",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "😀" * 3,
    " padded ",
]


def legal_name(payload: str) -> bool:
    """Whether a list or campaign may have this name: 1–48 characters, no control characters."""
    return 1 <= len(payload.strip()) <= 48 and not any(ord(ch) < 32 for ch in payload)


def legal_value(payload: str) -> bool:
    """Whether a contact may hold this value: at most 300 characters, no NUL."""
    return len(payload) <= 300 and "\x00" not in payload


# A payload's short, printable name for failure reports.
SHOWN = {payload: repr(payload[:30]) + ("…" if len(payload) > 30 else "") for payload in PAYLOADS}


@dataclass
class Outcomes:
    """Every answer's verdict; the test fails at the end, listing every bad one."""

    problems: list[str] = field(default_factory=list)
    count: int = 0

    def check(self, what: str, response: Response) -> bool:
        """Records a problem unless the answer is 2xx or a 4xx envelope; True when 2xx."""
        self.count += 1
        status = response.status_code
        if status >= 500 or status < 200 or 300 <= status < 400:
            self.problems.append(f"{what}: {status} {response.text[:200]}")
            return False
        if status < 300:
            return True
        try:
            body = response.json()
            entry = body["errors"][0]
            valid = (
                body["status"] == "failure"
                and isinstance(body["message"], str)
                and isinstance(entry["reason"], str)
                and isinstance(entry["msg"], str)
            )
        except (ValueError, KeyError, IndexError, TypeError):
            valid = False
        if not valid:
            self.problems.append(f"{what}: {status} without the envelope: {response.text[:200]}")
        return False

    def expect(self, what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            self.problems.append(f"{what}: read back {actual!r:.80} instead of {expected!r:.80}")


async def _table_names(app: FastAPI) -> set[str]:
    async with app.state.engine.connect() as conn:
        names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def _ok(client: AsyncClient, method: str, url: str, tenant: Tenant, **kwargs: Any) -> Any:
    response = await client.request(method, url, headers=tenant.headers(), **kwargs)
    assert response.status_code == 200, (url, response.text)
    return response.json()


def _campaign_id(data: dict[str, Any]) -> str:
    found: str = data.get("_id") or data["id"]  # v2 and v1 shapes
    return found


@dataclass
class Victim:
    """Another tenant's list, contacts and campaign, as it saw them before the payloads."""

    tenant: Tenant
    list_id: str
    campaign_id: str
    seen: Any = None

    async def look(self, client: AsyncClient) -> Any:
        paths = Paths("v2", self.tenant.bot)
        return (
            (await _ok(client, "GET", paths.list(self.list_id), self.tenant))["data"],
            (await _ok(client, "GET", paths.get_all, self.tenant))["data"],
            await all_contacts(client, self.tenant, self.list_id),
            (
                await _ok(
                    client,
                    "GET",
                    CampaignPaths("v2", self.tenant.bot).campaign(self.campaign_id),
                    self.tenant,
                )
            )["data"],
        )


async def _victim(client: AsyncClient, tenants: TenantFactory, run_jobs: RunJobs) -> Victim:
    tenant = await tenants.create()
    paths = Paths("v2", tenant.bot)
    created = await _ok(
        client, "POST", paths.create, tenant, json={"name": "Victim", "description": "keep"}
    )
    await _ok(
        client,
        "POST",
        ADD_CONTACTS.format(bot=tenant.bot),
        tenant,
        json={"contact_list_name": "Victim", "data": [{"phoneNumber": "+14155550100"}]},
    )
    await run_jobs()
    campaign = await _ok(
        client,
        "POST",
        CampaignPaths("v2", tenant.bot).prefix,
        tenant,
        params={"campaignType": "voice"},
        json=voice_body("Victim calls", ["Victim"]),
    )
    victim = Victim(tenant, created["data"]["_id"], _campaign_id(campaign["data"]))
    victim.seen = await victim.look(client)
    return victim


# ---------------------------------------------------------------- the fields


async def _list_fields(
    client: AsyncClient, tenant: Tenant, family: str, out: Outcomes
) -> dict[str, str]:
    """Create lists with each payload in each field; the lists named by a payload, by payload."""
    paths = Paths(family, tenant.bot)
    named: dict[str, str] = {}
    for index, payload in enumerate(PAYLOADS):
        for key in ("name", "description", "source", "listType", "defaultRegion"):
            body = {"name": f"List {index} {key}", key: payload}
            what = f"{family} create {key}={SHOWN[payload]}"
            response = await client.post(paths.create, json=body, headers=tenant.headers())
            if not out.check(what, response):
                if key == "name" and legal_name(payload):
                    out.problems.append(f"{what}: a legal name was refused")
                continue
            data = response.json()["data"]
            read = (await _ok(client, "GET", paths.list(data["_id"]), tenant))["data"]
            if key == "name":
                out.expect(what, read["name"], payload.strip())
                named[payload] = data["_id"]
            elif key == "description":
                out.expect(what, read["description"], payload)
    return named


async def _update_fields(client: AsyncClient, tenant: Tenant, family: str, out: Outcomes) -> None:
    paths = Paths(family, tenant.bot)
    target = (await _ok(client, "POST", paths.create, tenant, json={"name": "Renamed"}))["data"]
    for payload in PAYLOADS:
        for key in ("name", "description", "defaultRegion"):
            what = f"{family} update {key}={SHOWN[payload]}"
            response = await client.put(
                paths.list(target["_id"]), json={key: payload}, headers=tenant.headers()
            )
            if not out.check(what, response):
                continue
            read = (await _ok(client, "GET", paths.list(target["_id"]), tenant))["data"]
            if key in ("name", "description"):
                expected = payload.strip() if key == "name" else payload
                out.expect(what, read[key], expected)


async def _contacts(
    client: AsyncClient,
    tenant: Tenant,
    family: str,
    run_jobs: RunJobs,
    named: dict[str, str],
    out: Outcomes,
) -> None:
    """addContacts with each payload in every field of an item, and as the list's name."""
    paths = Paths(family, tenant.bot)
    await _ok(
        client, "POST", paths.create, tenant, json={"name": "Contacts", "allowDuplicates": True}
    )
    items: list[dict[str, Any]] = []
    for index, payload in enumerate(PAYLOADS):
        items.append(
            {
                "phoneNumber": f"+1415555{index:04d}",
                "firstName": payload,
                "lastName": payload,
                "uniqueId": payload,
                "contactPriority": payload,
                "note": payload,
            }
        )
        items.append({"phoneNumber": f"+1212555{index:04d}", payload: "custom value"})
        items.append({"phoneNumber": payload})
        items.append({"phoneNumber": f"+1312555{index:04d}", "timeZone": payload})
    response = await client.post(
        ADD_CONTACTS.format(bot=tenant.bot),
        json={"contact_list_name": "Contacts", "data": items},
        headers=tenant.headers(),
    )
    assert out.check(f"{family} addContacts", response)
    await run_jobs()
    finished = await job(client, tenant, response.json()["jobId"], family)
    out.expect(f"{family} addContacts job", finished["state"], "completed")
    out.expect(f"{family} addContacts rows", finished["processed"], len(items))
    list_id = (await _ok(client, "GET", paths.get_all, tenant, params={"search": "Contacts"}))[
        "data"
    ][0]["_id"]
    stored = {contact["phoneNumber"]: contact for contact in await all_contacts(
        client, tenant, list_id, family)}  # fmt: skip
    for index, payload in enumerate(PAYLOADS):
        # Known fields are trimmed; custom values and names are kept verbatim.
        contact = stored.get(f"+1415555{index:04d}")
        out.expect(f"{family} contact {SHOWN[payload]} stored", contact is not None,
                   legal_value(payload))  # fmt: skip
        if contact is not None:
            what = f"{family} contact fields={SHOWN[payload]}"
            for key in ("firstName", "lastName", "uniqueId", "contactPriority"):
                out.expect(f"{what} {key}", contact[key], payload.strip() or None)
            out.expect(f"{what} note", contact["fields"]["note"], payload)
        custom = stored.get(f"+1212555{index:04d}")
        if custom is not None:
            out.expect(
                f"{family} custom name {SHOWN[payload]}",
                custom["fields"],
                {payload: "custom value"},
            )
    exported = await client.get(f"{paths.list(list_id)}/export", headers=tenant.headers())
    out.check(f"{family} export", exported)

    for payload in PAYLOADS:
        response = await client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": payload, "data": [{"phoneNumber": "+14155550100"}]},
            headers=tenant.headers(),
        )
        if out.check(f"{family} addContacts list name {SHOWN[payload]}", response):
            # Only a list that really has this name may take the contacts.
            out.expect(f"{family} addContacts to {SHOWN[payload]}", payload in named, True)
    await run_jobs()


async def _campaigns(
    client: AsyncClient, tenant: Tenant, family: str, named: dict[str, str], out: Outcomes
) -> None:
    campaigns = CampaignPaths(family, tenant.bot)
    for index, payload in enumerate(PAYLOADS):
        lists = [payload] if payload in named else ["Contacts"]
        for what, body in (
            ("name", voice_body(payload, ["Contacts"])),
            ("description", voice_body(f"Campaign {index}", ["Contacts"], description=payload)),
            ("contactLists", voice_body(f"Lists {index}", [payload])),
            ("dncLists", voice_body(f"Dnc {index}", lists, dnc=payload)),
        ):
            label = f"{family} campaign {what}={SHOWN[payload]}"
            response = await client.post(
                campaigns.prefix,
                params={"campaignType": "voice"},
                json=body,
                headers=tenant.headers(),
            )
            if not out.check(label, response):
                if what == "name" and legal_name(payload):
                    out.problems.append(f"{label}: a legal name was refused")
                continue
            campaign_id = _campaign_id(response.json()["data"])
            read = (await _ok(client, "GET", campaigns.campaign(campaign_id), tenant))["data"]
            if what == "name":
                out.expect(label, read["name"], payload.strip())
            elif what == "description":
                out.expect(label, read["description"], payload)
            elif what == "contactLists":
                out.expect(f"{label} exists", payload in named, True)


async def _queries(client: AsyncClient, tenant: Tenant, family: str, out: Outcomes) -> None:
    paths = Paths(family, tenant.bot)
    every = (await _ok(client, "GET", paths.get_all, tenant))["data"]
    contacts_list = next(item["_id"] for item in every if item["name"] == "Contacts")
    for payload in PAYLOADS:
        what = f"{family} search={SHOWN[payload]}"
        response = await client.get(paths.get_all, params={"search": payload},
                                    headers=tenant.headers())  # fmt: skip
        if out.check(what, response):
            # A LIKE wildcard or a quote matches itself only, never every list.
            wanted = payload.casefold()
            names = [item["name"] for item in response.json()["data"]]
            out.expect(what, [n for n in names if wanted not in n.casefold()], [])
        for name, params in (
            ("type", {"type": payload}),
            ("skip", {"skip": payload}),
            ("accountId", {"accountId": payload}),
        ):
            response = await client.get(paths.get_all, params=params, headers=tenant.headers())
            out.check(f"{family} {name}={SHOWN[payload]}", response)
        response = await client.get(
            f"{paths.list(contacts_list)}/getAllContacts",
            params={"cursor": payload},
            headers=tenant.headers(),
        )
        out.check(f"{family} cursor={SHOWN[payload]}", response)


async def _path_parameters(client: AsyncClient, tenant: Tenant, family: str, out: Outcomes) -> None:
    paths = Paths(family, tenant.bot)
    campaigns = CampaignPaths(family, tenant.bot)
    every = (await _ok(client, "GET", paths.get_all, tenant))["data"]
    real_list = next(item["_id"] for item in every if item["name"] == "Contacts")
    for payload in PAYLOADS:
        # Once as one path segment (percent-encoded), once as a client might paste it.
        encoded, raw = quote(payload, safe=""), quote(payload, safe="/%\\")
        for how, segment in (("encoded", encoded), ("raw", raw))[: 1 if raw == encoded else 2]:
            routes = [
                ("GET", paths.list(segment)),
                ("PUT", paths.list(segment)),
                ("DELETE", paths.list(segment)),
                ("POST", f"{paths.list(segment)}/restore"),
                ("GET", f"{paths.list(segment)}/getAllContacts"),
                ("GET", f"{paths.list(segment)}/export"),
                ("GET", f"{paths.list(real_list)}/contacts/{segment}"),
                ("PUT", f"{paths.list(real_list)}/contacts/{segment}"),
                ("DELETE", f"{paths.list(real_list)}/contacts/{segment}"),
                ("GET", f"{paths.prefix}/jobs/{segment}"),
                ("GET", f"{paths.prefix}/jobs/{segment}/errors"),
                ("POST", f"{paths.prefix}/jobs/{segment}/cancel"),
                ("GET", campaigns.campaign(segment)),
                ("DELETE", campaigns.campaign(segment)),
                ("POST", f"{campaigns.campaign(segment)}/status"),
                ("GET", Paths(family, segment).get_all),
            ]
            for method, url in routes:
                headers = tenant.headers()
                if url.startswith(Paths(family, segment).prefix):
                    headers.pop("iid")  # the bot is the payload: let the bot check see it
                response = await client.request(
                    method, url, headers=headers, json={} if method in ("PUT", "POST") else None
                )
                found = out.check(f"{family} {method} {how} path {url[-60:]!r}", response)
                # A client resolves "." and ".." segments itself: then it asked for another URL.
                if found and response.request.url.raw_path.decode() == url:
                    out.problems.append(f"{family} {method} {url[-60:]!r} found something: 200")


# ---------------------------------------------------------------- the test


async def test_injection_and_traversal_payloads_are_data_or_4xx_never_5xx(
    app: FastAPI, client: AsyncClient, tenants: TenantFactory, run_jobs: RunJobs
) -> None:
    tables = await _table_names(app)
    assert {"contact_list", "contact", "app", "campaign"} <= tables
    victim = await _victim(client, tenants, run_jobs)
    out = Outcomes()

    for family in FAMILIES:
        # A tenant per family: names are unique per bot, and both families share the data.
        tenant = await tenants.create()
        named = await _list_fields(client, tenant, family, out)
        await _update_fields(client, await tenants.create(), family, out)
        await _contacts(client, tenant, family, run_jobs, named, out)
        await _campaigns(client, tenant, family, named, out)
        await _queries(client, tenant, family, out)
        await _path_parameters(client, tenant, family, out)

    assert not out.problems, f"{len(out.problems)} of {out.count} answers:\n" + "\n".join(
        out.problems[:60]
    )
    assert out.count > 1000
    assert await _table_names(app) == tables
    assert await victim.look(client) == victim.seen
