"""What the input rules accept at their edges, and the checks of bad input a table row cannot make.

The bad requests themselves, each with its 4xx and nothing changed, are the table of
test_bad_input.py. Here: the values at the limits, stored and read back exactly (CONTRACT §3,
§4.1–4.4, §6); generated bodies that must never be a 5xx; bodies cut off while they stream;
X-Request-Id and the 500; and injection payloads in every field, kept as data or refused.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import phonenumbers
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from contactlists.config import Settings
from contactlists.imports.router import FORM_OVERHEAD_BYTES
from tests.support.campaigns import CampaignPaths, voice_body
from tests.support.contacts import ADD_CONTACTS, all_contacts, create_list, job
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id
from tests.support.uploads import app_with, files_under

pytestmark = pytest.mark.anyio

FAMILIES = ["v1", "v2"]
JSON = {"Content-Type": "application/json"}
SOURCES = ("passiveApi", "passiveApiIntegration")
LIST_TYPES = ("call", "sms", "dnc")
# Unicode White_Space: what "trimming" a name removes.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"


# Both path families share the rules. Case lists are sent alternately through v1 and v2
# (``family_of``), so that each family sees half of every list and the suite stays fast.


def family_of(index: int) -> str:
    return FAMILIES[index % 2]


# ---------------------------------------------------------------- helpers


async def post_create(
    client: AsyncClient,
    tenant: Tenant,
    family: str,
    body: Any = None,
    *,
    content: bytes | None = None,
    bot: str | None = None,
) -> Response:
    bot = bot or tenant.bot
    if content is None:
        content = json.dumps(body).encode()
    return await client.post(
        Paths(family, bot).create, content=content, headers={**tenant.headers(iid=bot), **JSON}
    )


async def create(
    client: AsyncClient, tenant: Tenant, family: str, body: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    response = await post_create(client, tenant, family, body, **kwargs)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def put(
    client: AsyncClient,
    tenant: Tenant,
    family: str,
    list_id: str,
    body: Any = None,
    *,
    content: bytes | None = None,
) -> Response:
    if content is None:
        content = json.dumps(body).encode()
    return await client.put(
        Paths(family, tenant.bot).list(list_id),
        content=content,
        headers={**tenant.headers(), **JSON},
    )


async def fetch(client: AsyncClient, tenant: Tenant, family: str, list_id: str) -> dict[str, Any]:
    response = await client.get(Paths(family, tenant.bot).list(list_id), headers=tenant.headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def stored(
    client: AsyncClient, tenant: Tenant, *, bot: str | None = None, list_type: str | None = None
) -> list[dict[str, Any]]:
    """The lists of the bot that get-all shows (``list_type`` or the default filter)."""
    bot = bot or tenant.bot
    query = f"?type={list_type}" if list_type else ""
    response = await client.get(
        f"{Paths('v1', bot).get_all}{query}", headers=tenant.headers(iid=bot)
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


# ---------------------------------------------------------------- create: each field


async def test_create_accepts_48_characters_and_stores_the_trimmed_name(
    client: AsyncClient, tenant: Tenant
) -> None:
    cases = [
        ("x" * 48, "x" * 48),
        (" \t" + "y" * 48 + "  ", "y" * 48),
        ("  Trim me\t ", "Trim me"),
        ("é" * 48, "é" * 48),
        # Case folding lengthens these (ß -> ss, ΐ -> three code points).
        ("ß" * 48, "ß" * 48),
        ("ΐ" * 48, "ΐ" * 48),
        ("😀 名前 Ünïcödé", "😀 名前 Ünïcödé"),
        ("a", "a"),
    ]
    for index, (given_name, expected) in enumerate(cases):
        response = await post_create(client, tenant, family_of(index), {"name": given_name})
        assert response.status_code == 200, f"{given_name!r}: {response.text}"
        reply = response.json()
        assert reply["message"] == f"Contact list {expected} created successfully"
        assert reply["data"]["name"] == expected
        v1 = await fetch(client, tenant, "v1", reply["data"]["_id"])
        assert (v1["name"], v1["lname"]) == (expected, expected.casefold())
    assert len(await stored(client, tenant)) == len(cases)


async def test_create_stores_a_description_up_to_256_characters(
    client: AsyncClient, tenant: Tenant
) -> None:
    longest = await create(client, tenant, "v1", {"name": "Longest", "description": "é" * 256})
    default = await create(client, tenant, "v2", {"name": "Default"})

    assert (await fetch(client, tenant, "v2", longest["_id"]))["description"] == "é" * 256
    assert (await fetch(client, tenant, "v1", default["_id"]))["description"] == ""


async def test_create_takes_a_strict_boolean_for_allow_duplicates(
    client: AsyncClient, tenant: Tenant
) -> None:
    cases = [(True, "allowDuplicates"), (False, "dontAllowDuplicates")]
    for index, (value, mode) in enumerate(cases):
        body = {"name": f"n {index}", "allowDuplicates": value}
        data = await create(client, tenant, family_of(index), body)
        assert data["allowDuplicates"] is value
        assert data["apiConfigurations"] == {"dataSyncMode": mode}
    default = await create(client, tenant, "v1", {"name": "default"})
    assert default["allowDuplicates"] is False
    stored_default = await fetch(client, tenant, "v2", default["_id"])
    assert stored_default["allowDuplicates"] is False
    assert stored_default["apiConfigurations"] == {"dataSyncMode": "dontAllowDuplicates"}


async def test_create_stores_the_documented_sources(client: AsyncClient, tenant: Tenant) -> None:
    for index, source in enumerate(SOURCES):
        data = await create(client, tenant, family_of(index), {"name": source, "source": source})
        assert data["source"] == source
        assert (await fetch(client, tenant, family_of(index + 1), data["_id"]))["source"] == source
    default = await create(client, tenant, "v2", {"name": "default"})
    assert default["source"] == "passiveApi"


async def test_create_list_type_extension(client: AsyncClient, tenant: Tenant) -> None:
    # Before any is created, the only DNC list is the bot's Default Global DNC, made when DNC
    # lists are first asked for.
    assert [item["name"] for item in await stored(client, tenant, list_type="dnc")] == [
        "Default Global DNC"
    ]
    for index, list_type in enumerate(LIST_TYPES):
        data = await create(
            client, tenant, family_of(index), {"name": list_type, "listType": list_type}
        )
        assert data["listType"] == list_type
        fetched = await fetch(client, tenant, family_of(index + 1), data["_id"])
        assert fetched["listType"] == list_type
    default = await create(client, tenant, "v1", {"name": "default"})
    assert default["listType"] == "call"


async def test_create_default_region_extension(client: AsyncClient, tenant: Tenant) -> None:

    for index, (given_region, expected) in enumerate([("GB", "GB"), ("gb", "GB"), ("De", "DE")]):
        body = {"name": f"n {index}", "defaultRegion": given_region}
        data = await create(client, tenant, family_of(index), body)
        assert data["defaultRegion"] == expected
        fetched = await fetch(client, tenant, family_of(index + 1), data["_id"])
        assert fetched["defaultRegion"] == expected
    default = await create(client, tenant, "v2", {"name": "default"})
    assert default["defaultRegion"] == "US"


# ---------------------------------------------------------------- create: the body as a whole


async def test_create_ignores_unknown_keys_even_when_they_name_response_fields(
    client: AsyncClient, tenant: Tenant
) -> None:
    body = {
        "unknown": {"nested": [1, 2]},
        "name1": "ignored",
        "_id": "cl-chosen-by-client",
        "isActive": False,
        "totalRecordCount": 99,
        "status": "Processing",
        "createdBy": "someone-else",
        "accountId": "0" * 24,
        "orgId": "o-forged",
        "iId": "st-forged",
        "columns": ["x"],
        "campaignInUse": [{"id": "cd-1", "name": "c"}],
    }

    for family in FAMILIES:
        data = await create(client, tenant, family, {**body, "name": f"Plain {family}"})

        listed = await fetch(client, tenant, "v1", data["_id"])
        assert listed["_id"] != "cl-chosen-by-client"
        assert listed["_id"].startswith("cl-")
        assert listed["isActive"] is True
        assert listed["totalRecordCount"] == 0
        assert listed["status"] == "Ready"
        assert listed["createdBy"] == "u-tester"
        assert (listed["accountId"], listed["orgId"], listed["iId"]) == (
            tenant.account_id,
            tenant.org_id,
            tenant.bot,
        )
        assert listed["campaignInUse"] == []
        assert (await fetch(client, tenant, "v2", data["_id"]))["columns"] == []


# ---------------------------------------------------------------- names taken elsewhere


async def test_the_same_name_is_free_in_another_bot_and_another_account(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    first_bot, second_bot = new_bot_id(), new_bot_id()
    owner = await tenants.create(bots=[first_bot, second_bot])
    same_account = await tenants.create(account_id=owner.account_id)
    other_account = await tenants.create()

    await create(client, owner, "v1", {"name": "Renewal"}, bot=first_bot)
    await create(client, owner, "v2", {"name": "RENEWAL"}, bot=second_bot)
    await create(client, same_account, "v1", {"name": "renewal"})
    await create(client, other_account, "v2", {"name": "Renewal"})

    # Still unique within each bot.
    again = await post_create(client, owner, "v1", {"name": "renewal"}, bot=second_bot)
    assert_failure(again, 409, "duplicate_name")
    assert [item["name"] for item in await stored(client, owner, bot=first_bot)] == ["Renewal"]
    assert [item["name"] for item in await stored(client, owner, bot=second_bot)] == ["RENEWAL"]


@pytest.mark.parametrize("family", FAMILIES)
async def test_rename_to_its_own_name_in_another_case(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    created = await create(client, tenant, family, {"name": "Renewal"})

    response = await put(client, tenant, family, created["_id"], {"name": " RENEWAL "})

    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Contact list RENEWAL updated successfully"
    stored_list = await fetch(client, tenant, "v1", created["_id"])
    assert (stored_list["name"], stored_list["lname"]) == ("RENEWAL", "renewal")
    # The name is still taken for other lists.
    duplicate = await post_create(client, tenant, family, {"name": "renewal"})
    assert_failure(duplicate, 409, "duplicate_name")


# ---------------------------------------------------------------- update


async def test_an_empty_update_answers_200_and_changes_nothing(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create(client, tenant, "v1", {"name": "Quiet", "description": "same"})
    before = await fetch(client, tenant, "v2", created["_id"])

    for index, content in enumerate([b"", b"", b"{}", b"{}", b"  \n", b'{"unknown": 1}']):
        response = await put(client, tenant, family_of(index), created["_id"], content=content)
        assert response.status_code == 200, f"{content!r}: {response.text}"
        reply = response.json()
        assert reply["message"] == "Contact list Quiet updated successfully"
        assert reply["data"]["contactListId"] == created["_id"]
        echoed = reply["data"]["body"]
        assert not {"name", "description", "allowDuplicates", "defaultRegion"} & set(echoed)

    # updatedAt included: an empty update is not a change.
    assert await fetch(client, tenant, "v2", created["_id"]) == before


async def test_an_update_changes_only_the_given_field(client: AsyncClient, tenant: Tenant) -> None:
    created = await create(
        client,
        tenant,
        "v2",
        {"name": "Before", "description": "old", "allowDuplicates": True, "defaultRegion": "US"},
    )
    steps: list[tuple[dict[str, Any], dict[str, Any], set[str]]] = [
        # (body, what the response echoes, the keys of the stored v1 list that change)
        ({"name": "  After "}, {"name": "After"}, {"name", "lname"}),
        ({"description": "new"}, {"description": "new"}, {"description"}),
        # Falsy values are values, not absences.
        ({"description": ""}, {"description": ""}, {"description"}),
        ({"allowDuplicates": False}, {"allowDuplicates": False}, {"apiConfigurations"}),
        ({"defaultRegion": "gb"}, {"defaultRegion": "GB"}, {"defaultRegion"}),
    ]
    for index, (body, echoed, keys) in enumerate(steps):
        before = await fetch(client, tenant, "v1", created["_id"])
        response = await put(client, tenant, family_of(index), created["_id"], body)
        assert response.status_code == 200, f"{body!r}: {response.text}"
        reply_body = response.json()["data"]["body"]
        assert {key: reply_body.get(key) for key in echoed} == echoed
        unset = {"name", "description", "allowDuplicates", "defaultRegion"} - set(echoed)
        assert not unset & set(reply_body), reply_body
        after = await fetch(client, tenant, "v1", created["_id"])
        assert list(after) == list(before)
        assert {key for key in before if before[key] != after[key]} - {"updatedAt"} == keys
        assert after["updatedAt"] >= before["updatedAt"]

    final = await fetch(client, tenant, "v2", created["_id"])
    assert (final["name"], final["description"], final["defaultRegion"]) == ("After", "", "GB")
    assert final["allowDuplicates"] is False
    assert final["apiConfigurations"] == {"dataSyncMode": "dontAllowDuplicates"}


# ---------------------------------------------------------------- get-all query parameters


async def test_get_all_accepts_the_limits_of_its_query_parameters(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create(client, tenant, "v1", {"name": "One"})
    for index, query in enumerate(["limit=1", "limit=1000", "skip=0", "type=sms", "type=dnc"]):
        url = f"{Paths(family_of(index), tenant.bot).get_all}?{query}"
        response = await client.request(("GET", "POST")[index % 2], url, headers=tenant.headers())
        assert response.status_code == 200, f"{query}: {response.text}"


# ---------------------------------------------------------------- property: never a 5xx

KNOWN_KEYS = ("name", "description", "source", "allowDuplicates", "listType", "defaultRegion")
NASTY_NAMES = [
    "",
    " ",
    "x" * 48,
    "x" * 49,
    " " + "x" * 48 + " ",
    "ß" * 48,
    "ΐ" * 48,
    "😀" * 48,
    "😀" * 49,
    "\u0301" * 48,
    "\x00",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "\u202eevil",
    "\ufeffbom",
    "Robert'); DROP TABLE contact_list;--",
    "%s%n%x",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "100%_off\\",
    "null",
    "名前",
    "\u3000wide\u3000",
]
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# Every character, lone surrogates included, except the four C0 separators that Python
# counts as white space and Unicode does not (trimming them or not are both defensible).
NAME_TEXT = st.text(
    st.characters(exclude_categories=(), exclude_characters="\x1c\x1d\x1e\x1f"), max_size=60
)
NAMES = st.sampled_from(NASTY_NAMES) | NAME_TEXT | JSON_VALUES
DESCRIPTIONS = (
    st.sampled_from(["", "x" * 256, "x" * 257, "a\x00b", "\ud800", "line\nbreak"])
    | st.text(max_size=300)
    | JSON_VALUES
)
REGIONS = st.sampled_from(
    ["US", "GB", "de", "In", "USA", "", "G1", "gb\n", " GB", 44, None, True, ["GB"]]
)
FIELDS = {
    "description": DESCRIPTIONS,
    "source": st.sampled_from([*SOURCES, "localDrive", ""]) | JSON_VALUES,
    "allowDuplicates": st.booleans() | JSON_VALUES,
    "listType": st.sampled_from([*LIST_TYPES, "voice"]) | JSON_VALUES,
    "defaultRegion": REGIONS,
}
OBJECTS = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries({"name": NAMES}, optional=FIELDS)
    | st.fixed_dictionaries({}, optional={"name": NAMES, **FIELDS}),
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in KNOWN_KEYS), JSON_VALUES, max_size=2
    ),
)

# Bodies that are mostly valid, so that the property also exercises what is stored.
PADDING = st.text(st.sampled_from(" \t\u00a0\u3000"), max_size=3)
LIKELY_NAMES = st.builds(
    lambda before, core, after: before + core + after,
    PADDING,
    st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=48),
    PADDING,
)
LIKELY_OBJECTS = st.fixed_dictionaries(
    {"name": LIKELY_NAMES},
    optional={
        "description": st.text(max_size=256),
        "source": st.sampled_from(SOURCES),
        "allowDuplicates": st.booleans(),
        "listType": st.sampled_from(LIST_TYPES),
        "defaultRegion": st.sampled_from(["US", "GB", "de", "In"]),
    },
)


def encode(value: Any, ascii_only: bool) -> bytes:
    # Without ensure_ascii a lone surrogate becomes bytes that are not UTF-8.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


BODIES = (
    st.builds(encode, LIKELY_OBJECTS, st.booleans())
    | st.builds(encode, OBJECTS, st.booleans())
    | st.builds(encode, JSON_VALUES, st.booleans())
    | st.binary(max_size=64)
    | st.text(max_size=64).map(lambda text: text.encode())
)


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def trimmed_name(value: Any) -> str | None:
    """The name to store, or None when ``value`` is not a valid name."""
    if not isinstance(value, str) or has_surrogate(value):
        return None
    name = value.strip(WHITE_SPACE)
    if not 1 <= len(name) <= 48 or any(unicodedata.category(ch) == "Cc" for ch in name):
        return None
    return name


def problems(body: dict[str, Any]) -> set[str]:
    """The fields of ``body`` that CONTRACT §4.1 rejects."""
    found = set()
    if trimmed_name(body.get("name")) is None:
        found.add("name")
    if "description" in body:
        description = body["description"]
        if (
            not isinstance(description, str)
            or has_surrogate(description)
            or len(description) > 256
            or "\x00" in description
        ):
            found.add("description")
    if "source" in body and not (isinstance(body["source"], str) and body["source"] in SOURCES):
        found.add("source")
    if "allowDuplicates" in body and not isinstance(body["allowDuplicates"], bool):
        found.add("allowDuplicates")
    if "listType" in body and not (
        isinstance(body["listType"], str) and body["listType"] in LIST_TYPES
    ):
        found.add("listType")
    region = body.get("defaultRegion")
    if region is not None and not (
        isinstance(region, str)
        and re.fullmatch(r"[A-Za-z]{2}", region)
        and region.upper() in phonenumbers.SUPPORTED_REGIONS
    ):
        found.add("defaultRegion")
    return found


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a key appears twice")
    return dict(pairs)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(content: bytes) -> Any:
    """JSON as CONTRACT §6 reads it: UTF-8, finite numbers, no NaN or Infinity, unique keys."""
    return json.loads(
        content.decode("utf-8-sig"),
        object_pairs_hook=_unique_keys,
        parse_float=_finite,
        parse_constant=_no_constant,
    )


def expected_problems(content: bytes) -> set[str]:
    try:
        data = strict_json(content)
    except (ValueError, RecursionError):
        return {"body"}
    return problems(data) if isinstance(data, dict) else {"body"}


@pytest.fixture
def taken_names() -> set[str]:
    """Case-folded names created so far by the property test (its examples share one bot)."""
    return set()


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=BODIES, family=st.sampled_from(FAMILIES))
async def test_arbitrary_create_bodies_never_fail_with_a_server_error(
    client: AsyncClient, tenant: Tenant, taken_names: set[str], content: bytes, family: str
) -> None:
    response = await post_create(client, tenant, family, content=content)

    assert response.status_code < 500, response.text
    event(f"HTTP {response.status_code}")
    fields = expected_problems(content)
    if fields:
        assert_validation_error(response, fields)
        return
    body = json.loads(content)
    name = trimmed_name(body["name"])
    assert name is not None
    if name.casefold() in taken_names:
        assert_failure(response, 409, "duplicate_name")
        return
    assert response.status_code == 200, response.text
    taken_names.add(name.casefold())
    data = await fetch(client, tenant, "v2", response.json()["data"]["_id"])
    assert data["name"] == name
    assert data["description"] == body.get("description", "")
    assert data["source"] == body.get("source", "passiveApi")
    # A DNC list never keeps duplicates, whatever the body asks.
    assert data["allowDuplicates"] is (
        body.get("allowDuplicates", False) and body.get("listType") != "dnc"
    )
    assert data["listType"] == body.get("listType", "call")
    assert data["defaultRegion"] == (body.get("defaultRegion") or "US").upper()


async def test_the_largest_offset_pages_to_nothing(client: AsyncClient, tenant: Tenant) -> None:
    paths = Paths("v1", tenant.bot)
    lists = await client.get(paths.get_all, params={"skip": 10**12}, headers=tenant.headers())
    assert (lists.status_code, lists.json()["data"]) == (200, [])
    campaigns = await client.post(
        f"{paths.prefix}/getAllCampaignDetails",
        json={"type": "voice", "page": 10**9, "limit": 1000},
        headers=tenant.headers(),
    )
    assert campaigns.status_code == 200, campaigns.text
    assert campaigns.json()["data"]["results"] == []


# ------------------------------------------------------------ bodies: what is read, what is JSON


SMALL = 4096


CHUNK = 1024


@dataclass
class EndlessBody:
    """A request body that never ends; counts what the server took of it."""

    start: bytes
    sent: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        self.sent += len(self.start)
        yield self.start
        for _ in range(1_000_000):  # 1 GiB: far more than any limit of these tests
            self.sent += CHUNK
            yield b" " * CHUNK


async def names(client: AsyncClient, tenant: Tenant) -> list[str]:
    response = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


async def test_a_json_body_without_a_length_is_cut_off_at_the_limit(settings: Settings) -> None:
    async with app_with(settings, max_body_bytes=SMALL) as (app, client):
        tenant = await TenantFactory(app).create()
        for method, url in [
            ("POST", Paths("v1", tenant.bot).create),
            ("POST", ADD_CONTACTS.format(bot=tenant.bot)),
            ("POST", CampaignPaths("v2", tenant.bot).get_all),
        ]:
            body = EndlessBody(b'{"name": "Endless", "description": "')
            response = await client.request(
                method,
                url,
                content=body.chunks(),
                headers={**tenant.headers(), "Content-Type": "application/json"},
            )

            assert "content-length" not in response.request.headers
            assert_failure(response, 413, "payload_too_large")
            # The server stopped reading within a chunk of the limit.
            assert SMALL < body.sent <= SMALL + CHUNK, (url, body.sent)
        assert await names(client, tenant) == []


async def test_an_upload_without_a_length_is_cut_off_near_the_limit(settings: Settings) -> None:
    async with app_with(settings, max_upload_bytes=SMALL) as (app, client):
        tenant = await TenantFactory(app).create()
        created = await create_list(client, tenant, "Endless upload")
        boundary = "endless"
        body = EndlessBody(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nphoneNumber\r\n".encode()
        )

        response = await client.post(
            f"{Paths('v2', tenant.bot).list(created['_id'])}/upload",
            content=body.chunks(),
            headers={
                **tenant.headers(),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )

        assert_failure(response, 413, "payload_too_large")
        # The form's framing may take up to FORM_OVERHEAD_BYTES beside a file at the limit.
        assert body.sent <= SMALL + FORM_OVERHEAD_BYTES + CHUNK, body.sent
        assert files_under(settings.data_dir) == []


SMALL_LIMIT = 2048


def body_of_size(size: int, name: str) -> bytes:
    """A valid create body of exactly ``size`` bytes."""
    empty = json.dumps({"name": name, "pad": ""}).encode()
    body = json.dumps({"name": name, "pad": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


async def test_a_body_of_exactly_the_limit_is_read(settings: Settings) -> None:
    # One byte more is a 413: the table of test_bad_input.py.
    async with app_with(settings, max_body_bytes=SMALL_LIMIT) as (app, small_client):
        tenant = await TenantFactory(app).create()
        fits = await small_client.post(
            Paths("v1", tenant.bot).create,
            content=body_of_size(SMALL_LIMIT, "Fits"),
            headers={**tenant.headers(), **JSON},
        )
        assert fits.status_code == 200, fits.text
        assert await names(small_client, tenant) == ["Fits"]


async def test_json_in_utf8_is_accepted_however_it_is_labelled(
    client: AsyncClient, tenant: Tenant
) -> None:
    labels = [
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;charset=utf8",
        "application/json; version=2",
        "application/problem+json; charset=utf-8",
    ]
    for index, content_type in enumerate(labels):
        response = await client.post(
            Paths(("v1", "v2")[index % 2], tenant.bot).create,
            content=f'{{"name": "Étiquette {index}"}}'.encode(),
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, f"{content_type}: {response.text}"


async def test_a_utf8_bom_is_ignored(client: AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        Paths("v1", tenant.bot).create,
        content=b"\xef\xbb\xbf" + json.dumps({"name": "Marked"}).encode(),
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert await names(client, tenant) == ["Marked"]


async def test_json_media_types_with_parameters_or_suffixes_are_accepted(
    client: AsyncClient, tenant: Tenant
) -> None:
    for index, content_type in enumerate(
        ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json"]
    ):
        response = await client.post(
            Paths("v1", tenant.bot).create,
            content=json.dumps({"name": f"Typed {index}"}).encode(),
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, f"{content_type}: {response.text}"


async def test_an_empty_form_body_is_an_empty_update_not_a_415(
    client: AsyncClient, tenant: Tenant
) -> None:
    """curl's `--data ''` sends an empty body typed as a form; it is judged as empty."""
    created = await create(client, tenant, "v2", {"name": "Empty form"})
    before = await fetch(client, tenant, "v1", created["_id"])
    response = await client.put(
        Paths("v2", tenant.bot).list(created["_id"]),
        content=b"",
        headers={**tenant.headers(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert await fetch(client, tenant, "v1", created["_id"]) == before


async def test_large_but_finite_numbers_and_equal_keys_in_different_objects_are_json(
    client: AsyncClient, tenant: Tenant
) -> None:
    content = (
        b'{"name": "Fine", "a": {"k": 1e308}, "b": {"k": -1.5e-320}, "c": 123456789012345678901}'
    )
    response = await client.post(
        Paths("v1", tenant.bot).create,
        content=content,
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def cursor_at(position: str) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


async def test_the_largest_cursor_pages_to_nothing(client: AsyncClient, tenant: Tenant) -> None:
    # Positions past 64 bits are refused: the table of test_bad_input.py.
    created = await create_list(client, tenant, "Cursor")
    url = f"{Paths('v1', tenant.bot).list(created['_id'])}/getAllContacts"

    largest = await client.get(
        url, params={"cursor": cursor_at(str(2**63 - 1))}, headers=tenant.headers()
    )
    assert largest.status_code == 200, largest.text
    assert largest.json()["data"]["results"] == []


async def test_campaign_filters_longer_than_their_bound_are_refused_unread(
    client: AsyncClient, tenant: Tenant
) -> None:
    """A filter names each value once, so it needs at most a few; a long one is one error.

    Each value was once one bound parameter (PostgreSQL takes at most 32,767 in a statement),
    then one validation entry each: a million bad values made a 213 MB answer.
    """
    filters = {
        "status": ["Ready", "Active"] * 20_000,
        "priority": [2, "2", 3] * 15_000,
        "dialingMode": ["Progressive"] * 40_000,
    }

    response = await client.post(
        CampaignPaths("v1", tenant.bot).get_all,
        json={"type": "voice", "filters": filters},
        headers=tenant.headers(),
    )

    entries = assert_validation_error(
        response, ["filters.status", "filters.priority", "filters.dialingMode"]
    )
    assert all("at most 20" in entry["msg"] for entry in entries)
    assert len(response.content) < 4096


# ---------------------------------------------------------------- X-Request-Id and the 500


# What a generated (or safely echoed) request id may look like.
PLAIN_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def test_every_response_carries_a_fresh_request_id(
    client: AsyncClient, tenant: Tenant
) -> None:
    v2 = Paths("v2", tenant.bot)
    responses = [
        await client.get("/healthz"),
        await client.post(v2.create, json={"name": "Listed"}, headers=tenant.headers()),
        await client.post(v2.create, content=b"{", headers={**tenant.headers(), **JSON}),
        await client.post(v2.create, json={"name": "x"}),
        await client.get("/no/such/route"),
        await client.patch(v2.create, headers=tenant.headers()),
    ]

    assert [response.status_code for response in responses] == [200, 200, 400, 401, 404, 405]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(request_id and PLAIN_REQUEST_ID.match(request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_plain_client_request_id_is_echoed(client: AsyncClient, tenant: Tenant) -> None:
    create_url = Paths("v1", tenant.bot).create
    cases: list[tuple[str, str, str, dict[str, Any] | None, bool]] = [
        # (request id, method, url, JSON body, with a token): a 200, 200, 400, 404 and 401
        ("req-123", "GET", "/healthz", None, False),
        ("a.b:c_d-E9", "POST", create_url, {"name": "Echo"}, True),
        ("x" * 128, "POST", create_url, {"name": ""}, True),
        (str(uuid.uuid4()), "GET", "/no/such/route", None, False),
        ("no-token", "POST", create_url, {"name": "Anonymous"}, False),
    ]
    statuses = []
    for request_id, method, url, body, with_token in cases:
        headers = {"X-Request-Id": request_id, **(tenant.headers() if with_token else {})}
        response = await client.request(method, url, json=body, headers=headers)
        assert response.headers["x-request-id"] == request_id, (method, url, response.text)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 400, 404, 401]


async def test_a_hostile_client_request_id_is_replaced(client: AsyncClient) -> None:
    hostile: list[str | bytes] = [
        "two words",
        "tab\there",
        "line\nbreak",
        "evil\r\nX-Injected: 1",
        "x" * 129,
        "",
        "<script>",
        "caf\xe9".encode("latin-1"),
    ]
    for value in hostile:
        response = await client.get("/healthz", headers={"X-Request-Id": value})
        assert response.status_code == 200
        echoed = response.headers["x-request-id"]
        assert echoed != (value.decode("latin-1") if isinstance(value, bytes) else value)
        assert PLAIN_REQUEST_ID.match(echoed), echoed
        assert "x-injected" not in response.headers
        assert len(response.headers.get_list("x-request-id")) == 1


async def test_an_unexpected_error_is_a_500_envelope_without_details(
    app: FastAPI, client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret detail: SELECT client_secret FROM app")

    app.add_api_route("/boom", boom)

    with caplog.at_level(logging.ERROR):
        anonymous = await client.get("/boom")
        traced = await client.get("/boom", headers={"X-Request-Id": "trace-500"})

    for response in (anonymous, traced):
        errors = assert_failure(response, 500, "internal_error")
        assert len(errors) == 1
        for leak in ("secret", "SELECT", "client_secret", "RuntimeError", "Traceback", "boom"):
            assert leak not in response.text, leak
    assert traced.headers["x-request-id"] == "trace-500"
    # The log has what the response hides, under the request id.
    logged = {
        getattr(record, "request_id", None)
        for record in caplog.records
        if record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    }
    assert {anonymous.headers["x-request-id"], "trace-500"} <= logged


# ---------------------------------------------------------------- injection payloads
#
# Each payload goes into every string field of list create and update, addContacts (list name,
# every contact field, custom field names and values), campaign create (name, description, list
# references), the search, type and cursor query parameters, and every path parameter (list,
# contact, job and campaign ids, the bot) of both path families. Every answer is 2xx — and then
# the value reads back exactly as stored, since a list named ``'; DROP TABLE contact_list; --`` is
# a fine name — or 4xx with the error envelope; never 5xx. Afterwards every table is still there
# and another tenant's data is unchanged.
#
# The requests of one backend are one test: ~1,800 in-process requests, a few seconds.

RunJobs = Callable[[], Awaitable[int]]

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


# ---------------------------------------------------------------- injection: the fields


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


# ---------------------------------------------------------------- injection: the test


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
