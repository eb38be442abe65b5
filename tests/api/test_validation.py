"""Input validation of create, update and get-all (CONTRACT §3, §4.1–4.4, §6).

Every rejected write is followed by a read showing that nothing was stored or changed.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

import phonenumbers
import pytest
from httpx import AsyncClient, Response
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id

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


async def assert_rejected(
    client: AsyncClient, tenant: Tenant, cases: list[tuple[Any, list[str]]]
) -> None:
    """Each create body of ``cases`` is a 400 naming exactly its fields, and nothing is stored."""
    before = await stored(client, tenant)
    for index, (body, fields) in enumerate(cases):
        response = await post_create(client, tenant, family_of(index), body)
        assert response.status_code == 400, f"{body!r}: {response.text}"
        assert_validation_error(response, fields)
    assert await stored(client, tenant) == before


# ---------------------------------------------------------------- create: each field


async def test_create_rejects_names_outside_the_limits(client: AsyncClient, tenant: Tenant) -> None:
    bad_names = [
        "",
        " ",
        "      ",
        "\t \u3000\n",
        "x" * 49,
        " " + "x" * 49 + " ",
        "é" * 49,
        "a\x00b",
        "\x00",
        "bell\x07",
        "line\nbreak",
        "del\x7f",
        "next\x85line",
    ]
    wrong_types: list[Any] = [5, 4.5, True, None, [], ["x"], {"name": "x"}]
    cases = [({"name": name, "description": "d"}, ["name"]) for name in bad_names + wrong_types]
    cases += [({}, ["name"]), ({"description": "no name"}, ["name"])]
    await assert_rejected(client, tenant, cases)


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


async def test_create_limits_the_description(client: AsyncClient, tenant: Tenant) -> None:
    await assert_rejected(
        client,
        tenant,
        [
            ({"name": "n", "description": "x" * 257}, ["description"]),
            ({"name": "n", "description": "é" * 257}, ["description"]),
            ({"name": "n", "description": "nul\x00inside"}, ["description"]),
            ({"name": "n", "description": ["a", "list"]}, ["description"]),
            ({"name": "n", "description": 12}, ["description"]),
            ({"name": "n", "description": {"text": "x"}}, ["description"]),
        ],
    )

    longest = await create(client, tenant, "v1", {"name": "Longest", "description": "é" * 256})
    default = await create(client, tenant, "v2", {"name": "Default"})

    assert (await fetch(client, tenant, "v2", longest["_id"]))["description"] == "é" * 256
    assert (await fetch(client, tenant, "v1", default["_id"]))["description"] == ""


async def test_create_requires_a_strict_boolean_for_allow_duplicates(
    client: AsyncClient, tenant: Tenant
) -> None:
    not_booleans: list[Any] = ["true", "false", 1, 0, None, "yes", [], {}]
    await assert_rejected(
        client,
        tenant,
        [({"name": "n", "allowDuplicates": value}, ["allowDuplicates"]) for value in not_booleans],
    )

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


async def test_create_accepts_only_the_documented_sources(
    client: AsyncClient, tenant: Tenant
) -> None:
    # localDrive is the source of uploaded lists; a client cannot claim it.
    bad: list[Any] = [
        "localDrive",
        "bogus",
        "PASSIVEAPI",
        "passiveapi",
        "",
        1,
        None,
        ["passiveApi"],
    ]
    await assert_rejected(
        client, tenant, [({"name": "n", "source": value}, ["source"]) for value in bad]
    )

    for index, source in enumerate(SOURCES):
        data = await create(client, tenant, family_of(index), {"name": source, "source": source})
        assert data["source"] == source
        assert (await fetch(client, tenant, family_of(index + 1), data["_id"]))["source"] == source
    default = await create(client, tenant, "v2", {"name": "default"})
    assert default["source"] == "passiveApi"


async def test_create_list_type_extension(client: AsyncClient, tenant: Tenant) -> None:
    # DNC lists are made through createContactList too (CONTRACT §8).
    bad: list[Any] = ["DNC", "CALL", "voice", "", 1, None, ["call"]]
    await assert_rejected(
        client, tenant, [({"name": "n", "listType": value}, ["listType"]) for value in bad]
    )
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
    bad: list[Any] = ["XX", "ZZ", "USA", "U", "", "G1", "gb\n", " GB", 44, ["GB"]]
    await assert_rejected(
        client,
        tenant,
        [({"name": "n", "defaultRegion": value}, ["defaultRegion"]) for value in bad],
    )

    for index, (given_region, expected) in enumerate([("GB", "GB"), ("gb", "GB"), ("De", "DE")]):
        body = {"name": f"n {index}", "defaultRegion": given_region}
        data = await create(client, tenant, family_of(index), body)
        assert data["defaultRegion"] == expected
        fetched = await fetch(client, tenant, family_of(index + 1), data["_id"])
        assert fetched["defaultRegion"] == expected
    default = await create(client, tenant, "v2", {"name": "default"})
    assert default["defaultRegion"] == "US"


# ---------------------------------------------------------------- create: the body as a whole


async def test_create_reports_one_entry_per_problem(client: AsyncClient, tenant: Tenant) -> None:
    everything_wrong = {
        "name": 5,
        "description": ["not", "text"],
        "allowDuplicates": "true",
        "source": "elsewhere",
        "listType": "voice",
        "defaultRegion": "USA",
    }
    await assert_rejected(
        client,
        tenant,
        [
            (everything_wrong, list(everything_wrong)),
            (everything_wrong, list(everything_wrong)),
            (
                {"description": "x" * 257, "allowDuplicates": 1},
                ["name", "description", "allowDuplicates"],
            ),
            ({"name": "", "source": 1}, ["name", "source"]),
        ],
    )


async def test_create_reports_an_unknown_region_along_with_other_problems(
    client: AsyncClient, tenant: Tenant
) -> None:
    # "XX" has the right form but names no region: still one entry per problem.
    await assert_rejected(
        client,
        tenant,
        [
            ({"name": "", "defaultRegion": "XX"}, ["name", "defaultRegion"]),
            ({"name": "n", "source": "x", "defaultRegion": "XX"}, ["source", "defaultRegion"]),
        ],
    )


async def test_create_rejects_bodies_that_are_not_a_json_object(
    client: AsyncClient, tenant: Tenant
) -> None:
    bodies = [
        b"",
        b"  \n\t ",
        b"{",
        b'{"name": "x",}',
        b"{'name': 'x'}",
        b'{"name": "x"} trailing',
        b"nul",
        b'[{"name": "x"}]',
        b"[]",
        b'"name"',
        b"5",
        b"null",
        b"true",
        b'{"name": "\xff\xfe"}',
        b"\xc3\x28",
        b"[" * 100_000,
        b'{"a": ' * 100_000,
        b"1" * 100_000,
        b'{"name": "x", "description": ' + b"9" * 5_000 + b"}",
    ]
    before = await stored(client, tenant)
    for index, content in enumerate(bodies):
        response = await post_create(client, tenant, family_of(index), content=content)
        assert response.status_code == 400, f"{content[:40]!r}: {response.text}"
        assert_validation_error(response, ["body"])
    assert await stored(client, tenant) == before


async def test_the_kore_sample_typo_name1_means_name_is_required(
    client: AsyncClient, tenant: Tenant
) -> None:
    # Kore.ai's own create sample spells the key `name1`.
    sample = {
        "name1": "Renewal Due - August 2025",
        "description": "This list contains customers with services expiring in July 2025.",
        "allowDuplicates": True,
    }

    for family in FAMILIES:
        response = await post_create(client, tenant, family, sample)

        assert_failure(response, 400, "validation_error")
        assert response.json() == {
            "status": "failure",
            "message": "name is required",
            "errors": [
                {
                    "msg": "name is required",
                    "code": 400,
                    "reason": "validation_error",
                    "field": "name",
                }
            ],
        }
    assert await stored(client, tenant) == []


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


# ---------------------------------------------------------------- duplicate names


async def test_duplicate_names_are_rejected_case_insensitively(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create(client, tenant, "v1", {"name": "Renewal"})
    await create(client, tenant, "v2", {"name": "Straße"})
    before = await stored(client, tenant)

    for index, name in enumerate(
        ["Renewal", "RENEWAL", "renewal", "  rEnEwAl \t", "STRASSE", "strasse", "Strasse", "STRAẞE"]
    ):
        response = await post_create(client, tenant, family_of(index), {"name": name})
        assert response.status_code == 409, f"{name!r}: {response.text}"
        assert_failure(response, 409, "duplicate_name")

    assert await stored(client, tenant) == before
    assert sorted(item["name"] for item in before) == ["Renewal", "Straße"]


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


async def test_rename_to_a_taken_name_is_rejected_and_changes_nothing(
    client: AsyncClient, tenant: Tenant
) -> None:
    taken = await create(client, tenant, "v1", {"name": "Renewal"})
    folded = await create(client, tenant, "v1", {"name": "STRASSE"})
    other = await create(client, tenant, "v2", {"name": "Other", "description": "kept"})
    before = [await fetch(client, tenant, "v1", item["_id"]) for item in (taken, folded, other)]

    for index, body in enumerate(
        [
            {"name": "Renewal"},
            {"name": "RENEWAL"},
            {"name": " renewal "},
            {"name": "renewal", "description": "changed", "allowDuplicates": True},
            {"name": "Straße"},
        ]
    ):
        response = await put(client, tenant, family_of(index), other["_id"], body)
        assert response.status_code == 409, f"{body!r}: {response.text}"
        assert_failure(response, 409, "duplicate_name")

    after = [await fetch(client, tenant, "v1", item["_id"]) for item in (taken, folded, other)]
    assert after == before


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


async def test_an_invalid_update_is_rejected_and_changes_nothing(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create(client, tenant, "v1", {"name": "Stable", "description": "kept"})
    await create(client, tenant, "v2", {"name": "Neighbour"})
    before = await fetch(client, tenant, "v1", created["_id"])
    cases: list[tuple[Any, list[str]]] = [
        ({"name": ""}, ["name"]),
        ({"name": "   "}, ["name"]),
        ({"name": "x" * 49}, ["name"]),
        ({"name": "a\x00b"}, ["name"]),
        ({"name": "tab\there"}, ["name"]),
        ({"name": 5}, ["name"]),
        ({"name": ["Stable"]}, ["name"]),
        ({"description": "x" * 257}, ["description"]),
        ({"description": ["x"]}, ["description"]),
        ({"description": "a\x00b"}, ["description"]),
        ({"allowDuplicates": "true"}, ["allowDuplicates"]),
        ({"allowDuplicates": 1}, ["allowDuplicates"]),
        ({"defaultRegion": "USA"}, ["defaultRegion"]),
        ({"defaultRegion": "XX"}, ["defaultRegion"]),
        # A valid field next to an invalid one is not applied either.
        ({"name": "Changed", "description": "x" * 257}, ["description"]),
        ({"name": "Changed", "defaultRegion": "XX"}, ["defaultRegion"]),
        ({"name": "", "allowDuplicates": "no"}, ["name", "allowDuplicates"]),
    ]
    for index, (body, fields) in enumerate(cases):
        response = await put(client, tenant, family_of(index), created["_id"], body)
        assert response.status_code == 400, f"{body!r}: {response.text}"
        assert_validation_error(response, fields)
    for index, content in enumerate([b"{", b"[]", b'"name"', b'{"name": "\xff"}', b"[" * 100_000]):
        response = await put(client, tenant, family_of(index), created["_id"], content=content)
        assert response.status_code == 400, f"{content[:40]!r}: {response.text}"
        assert_validation_error(response, ["body"])

    assert await fetch(client, tenant, "v1", created["_id"]) == before


# ---------------------------------------------------------------- get-all query parameters


async def test_get_all_rejects_bad_query_parameters(client: AsyncClient, tenant: Tenant) -> None:
    await create(client, tenant, "v1", {"name": "One"})
    cases = [
        ("type=bogus", ["type"]),
        ("type=", ["type"]),
        ("skip=-1", ["skip"]),
        ("skip=abc", ["skip"]),
        ("limit=0", ["limit"]),
        ("limit=-5", ["limit"]),
        ("limit=1001", ["limit"]),
        ("limit=abc", ["limit"]),
        ("limit=1.5", ["limit"]),
        ("type=bogus&skip=-1&limit=0", ["type", "skip", "limit"]),
    ]
    # Every case once by GET and once by POST, each time through the other family.
    for method, shift in [("GET", 0), ("POST", 1)]:
        for index, (query, fields) in enumerate(cases):
            url = f"{Paths(family_of(index + shift), tenant.bot).get_all}?{query}"
            response = await client.request(method, url, headers=tenant.headers())
            assert response.status_code == 400, f"{method} {query}: {response.text}"
            assert_validation_error(response, fields)
    # The limits themselves are accepted.
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


# Offsets past 64 bits used to reach the database, which cannot hold them: a 500.
HUGE_OFFSETS = [10**12 + 1, 2**63, 10**30]


@pytest.mark.parametrize("offset", HUGE_OFFSETS)
async def test_paging_offsets_beyond_the_limit_are_refused(
    client: AsyncClient, tenant: Tenant, offset: int
) -> None:
    paths = Paths("v1", tenant.bot)
    created = await client.post(paths.create, json={"name": "paged"}, headers=tenant.headers())
    list_id = created.json()["data"]["_id"]
    lists = await client.get(paths.get_all, params={"skip": offset}, headers=tenant.headers())
    assert_validation_error(lists, ["skip"])
    contacts = await client.get(
        f"{paths.list(list_id)}/getAllContacts", params={"skip": offset}, headers=tenant.headers()
    )
    assert_validation_error(contacts, ["skip"])
    for body, field in (({"skip": offset}, "skip"), ({"page": offset, "limit": 1000}, "page")):
        campaigns = await client.post(
            f"{paths.prefix}/getAllCampaignDetails",
            json={"type": "voice", **body},
            headers=tenant.headers(),
        )
        assert_validation_error(campaigns, [field])


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
