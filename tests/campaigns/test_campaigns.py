"""Campaigns (CONTRACT §5): create, get, update, delete, status and triggers, on v1 and v2.

The wire shapes follow reference/kore-docs-notes.md §5; every rejected write is followed by
a read showing that nothing changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from contactlists.apps import service as apps
from contactlists.models.lists import ContactList
from tests.support.campaigns import (
    DEFAULT_DNC,
    FULL_KEYS,
    TRIGGER_PATHS,
    VOICE_CREATED_KEYS,
    CampaignPaths,
    assert_keys_in_order,
    create_campaign,
    get_campaign,
    post_campaign,
    sms_body,
    trigger,
    voice_body,
)
from tests.support.contacts import create_list
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.list_wire import assert_not_found
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory, new_bot_id

pytestmark = pytest.mark.anyio

FAMILIES = ["v1", "v2"]
CAMPAIGN_ID = re.compile(
    r"^cd-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def dnc_lists(client: AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get(
        Paths("v2", tenant.bot).get_all, params={"type": "dnc"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def campaign_ids(client: AsyncClient, tenant: Tenant, campaign_type: str) -> list[str]:
    response = await client.post(
        CampaignPaths("v2", tenant.bot).get_all,
        json={"type": campaign_type, "limit": 1000},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    return [item["_id"] for item in response.json()["data"]["results"]]


# ---------------------------------------------------------------- create and get


@pytest.mark.parametrize("mode", ["Agentless", "Progressive", "Preview"])
async def test_voice_campaign_is_created_ready_in_kore_shape(
    client: AsyncClient, tenant: Tenant, mode: str
) -> None:
    first = await create_list(client, tenant, "Renewals East")
    second = await create_list(client, tenant, "Renewals West")
    # Names match case-insensitively, and the campaign keeps the order given.
    body = voice_body("Renewal calls", ["renewals WEST", "Renewals East"], mode=mode)

    response = await post_campaign(client, tenant, "v2", body, "voice")

    assert response.status_code == 200, response.text
    reply = response.json()
    assert list(reply) == ["status", "message", "data"]
    assert reply["status"] == "success"
    assert reply["message"] == "Campaign Renewal calls creation in progress"
    data = reply["data"]
    assert_keys_in_order(data, VOICE_CREATED_KEYS)
    assert CAMPAIGN_ID.match(data["id"])
    assert "_id" not in data
    assert data["name"] == "Renewal calls"
    assert data["lname"] == "renewal calls"
    assert data["status"] == "Ready"
    assert data["dialingMode"] == mode
    assert data["priority"] == "3"
    # Current names of the lists, in the order the body gave them.
    assert data["contactLists"] == ["Renewals West", "Renewals East"]
    dnc = await dnc_lists(client, tenant)
    assert data["dncLists"] == {"id": dnc[0]["_id"], "name": DEFAULT_DNC}
    assert data["dialingStrategy"] == body["dialingStrategy"]
    assert TIMESTAMP.match(data["createdAt"])
    assert data["createdAt"] == data["updatedAt"]
    assert data["createdBy"] == data["updatedBy"] == "u-tester"
    assert data["campaignType"] == "voice"
    mode_keys = {"Agentless": {"experienceFlowName"}, "Progressive": {"queue_name"}}
    expected_mode_keys = mode_keys.get(mode, {"queue_name", "maxSkips"})
    assert {"experienceFlowName", "queue_name", "maxSkips"} & set(data) == expected_mode_keys

    shown = await get_campaign(client, tenant, data["id"])

    assert_keys_in_order(shown, FULL_KEYS)
    assert next(iter(shown)) == "_id"
    assert shown["_id"] == data["id"]
    assert {key: shown[key] for key in data if key != "id"} == {
        key: value for key, value in data.items() if key != "id"
    }
    assert shown["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}
    assert "campaignInstanceId" not in shown
    assert first["_id"] != second["_id"]


@pytest.mark.parametrize("family", FAMILIES)
async def test_get_answers_with_kore_message_on_both_families(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_list(client, tenant, "Texts")
    created = await create_campaign(client, tenant, sms_body("Reminder texts", ["Texts"]))

    response = await client.get(
        CampaignPaths(family, tenant.bot).campaign(created["_id"]), headers=tenant.headers()
    )

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["message"] == "Campaign Reminder texts retrieved successfully"
    assert reply["data"] == created


@pytest.mark.parametrize("family", FAMILIES)
async def test_sms_campaign_is_created_with_its_message_and_format(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_list(client, tenant, "Texts")
    body = sms_body("Reminder texts", ["Texts"])

    response = await post_campaign(client, tenant, family, body, "sms")

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["message"] == "Campaign Reminder texts creation in progress"
    data = reply["data"]
    # Kore.ai's SMS create answers with `_id` first, like get.
    assert_keys_in_order(data, FULL_KEYS)
    assert CAMPAIGN_ID.match(data["_id"])
    assert data["status"] == "Ready"
    assert data["format"] == "simple"
    assert data["message"] == {"message": "Your plan renews soon."}
    assert data["contactLists"] == ["Texts"]
    assert data["campaignType"] == "sms"
    # An SMS campaign names a DNC list only if it wants one, and has no dialing mode.
    assert "dncLists" not in data
    assert "dialingMode" not in data
    assert await get_campaign(client, tenant, data["_id"], family) == data


async def test_advanced_sms_needs_an_experience_flow_not_a_message(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Texts")
    body = sms_body("Advanced", ["Texts"], format="advanced", experienceFlowName="Flow")
    del body["message"]

    created = await create_campaign(client, tenant, body)

    assert created["format"] == "advanced"
    assert created["experienceFlowName"] == "Flow"
    assert "message" not in created
    without_flow = sms_body("Advanced 2", ["Texts"], format="advanced")
    assert_validation_error(
        await post_campaign(client, tenant, "v2", without_flow, "sms"), ["experienceFlowName"]
    )


async def test_v1_voice_campaign_needs_no_dnc_list_but_v2_does(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Calls")

    v2 = await post_campaign(
        client, tenant, "v2", voice_body("No DNC", ["Calls"], dnc=None), "voice"
    )
    assert_validation_error(v2, ["dncLists"])
    assert await campaign_ids(client, tenant, "voice") == []

    v1 = await post_campaign(
        client, tenant, "v1", voice_body("No DNC", ["Calls"], dnc=None), "voice"
    )
    assert v1.status_code == 200, v1.text
    assert "dncLists" not in v1.json()["data"]
    sms = await post_campaign(client, tenant, "v2", sms_body("SMS without DNC", ["Calls"]), "sms")
    assert sms.status_code == 200, sms.text


async def test_campaign_type_may_come_from_the_body_alone(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Calls")

    response = await post_campaign(client, tenant, "v2", voice_body("Typed", ["Calls"]), None)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["campaignType"] == "voice"
    untyped = voice_body("Untyped", ["Calls"])
    del untyped["campaignType"]
    assert_validation_error(
        await post_campaign(client, tenant, "v2", untyped, None), ["campaignType"]
    )


@pytest.mark.parametrize(
    ("query", "in_body", "fields"),
    [
        ("voice", "sms", ["campaignType"]),
        ("sms", "voice", ["campaignType"]),
        ("email", "voice", ["campaignType"]),
        ("voice", "email", ["campaignType"]),
    ],
)
async def test_campaign_type_of_query_and_body_must_agree(
    client: AsyncClient, tenant: Tenant, query: str, in_body: str, fields: list[str]
) -> None:
    await create_list(client, tenant, "Calls")
    build = voice_body if query == "voice" else sms_body
    body = build("Mismatch", ["Calls"], campaignType=in_body)

    assert_validation_error(await post_campaign(client, tenant, "v2", body, query), fields)
    for campaign_type in ("voice", "sms"):
        assert await campaign_ids(client, tenant, campaign_type) == []


# ---------------------------------------------------------------- validation


def _without(path: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return change


def _set(path: str, value: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


HOURS = "dialingStrategy.callingHours"
# (case, mode, change, fields of the 400): one per rule of notes §5.1.
VOICE_CASES = [
    ("name missing", "Progressive", _without("name"), ["name"]),
    ("name blank", "Progressive", _set("name", "   "), ["name"]),
    ("name too long", "Progressive", _set("name", "n" * 49), ["name"]),
    ("name not a string", "Progressive", _set("name", 12), ["name"]),
    ("description too long", "Progressive", _set("description", "d" * 257), ["description"]),
    ("no contact lists", "Progressive", _set("contactLists", []), ["contactLists"]),
    ("contact lists missing", "Progressive", _without("contactLists"), ["contactLists"]),
    ("contact list not a string", "Progressive", _set("contactLists", [3]), ["contactLists.0"]),
    ("priority 0", "Progressive", _set("priority", "0"), ["priority"]),
    ("priority 6", "Progressive", _set("priority", "6"), ["priority"]),
    ("priority missing", "Progressive", _without("priority"), ["priority"]),
    ("dialing mode unknown", "Progressive", _set("dialingMode", "Predictive"), ["dialingMode"]),
    ("dialing mode missing", "Progressive", _without("dialingMode"), ["dialingMode"]),
    ("strategy missing", "Progressive", _without("dialingStrategy"), ["dialingStrategy"]),
    ("attempts 0", "Progressive", _set("dialingStrategy.maxAttemptsPerRecord", 0),
     ["dialingStrategy.maxAttemptsPerRecord"]),
    ("attempts 101", "Progressive", _set("dialingStrategy.maxAttemptsPerRecord", 101),
     ["dialingStrategy.maxAttemptsPerRecord"]),
    ("attempts as text", "Progressive", _set("dialingStrategy.maxAttemptsPerRecord", "3"),
     ["dialingStrategy.maxAttemptsPerRecord"]),
    ("retry 0", "Progressive", _set("dialingStrategy.defaultRetryPeriod", 0),
     ["dialingStrategy.defaultRetryPeriod"]),
    ("retry 1441", "Progressive", _set("dialingStrategy.defaultRetryPeriod", 1441),
     ["dialingStrategy.defaultRetryPeriod"]),
    ("ring 4", "Progressive", _set("dialingStrategy.maxRingTime", 4),
     ["dialingStrategy.maxRingTime"]),
    ("ring 121", "Progressive", _set("dialingStrategy.maxRingTime", 121),
     ["dialingStrategy.maxRingTime"]),
    ("order unknown", "Progressive", _set("dialingStrategy.dialingOrder", "RANDOM"),
     ["dialingStrategy.dialingOrder"]),
    ("caller id not a number", "Progressive", _set("dialingStrategy.callerId.phoneNumber", "abc"),
     ["dialingStrategy.callerId.phoneNumber"]),
    ("frequency unknown", "Progressive", _set(f"{HOURS}.frequency", "HOURLY"),
     [f"{HOURS}.frequency"]),
    ("timezone unknown", "Progressive", _set(f"{HOURS}.timezone", "Mars/Olympus"),
     [f"{HOURS}.timezone"]),
    ("timezone an offset", "Progressive", _set(f"{HOURS}.timezone", "+05:00"),
     [f"{HOURS}.timezone"]),
    ("no days", "Progressive", _set(f"{HOURS}.days", []), [f"{HOURS}.days"]),
    ("day unknown", "Progressive", _set(f"{HOURS}.days.0.day", "MONDAY"),
     [f"{HOURS}.days.0.day"]),
    ("time 24-hour", "Progressive", _set(f"{HOURS}.days.0.start", "09:00"),
     [f"{HOURS}.days.0.start"]),
    ("time 13 PM", "Progressive", _set(f"{HOURS}.days.1.end", "13:00 PM"),
     [f"{HOURS}.days.1.end"]),
    ("end before start", "Progressive", _set(f"{HOURS}.days.0.end", "8:00 AM"),
     [f"{HOURS}.days.0"]),
    ("end equals start", "Progressive", _set(f"{HOURS}.days.1.end", "9:00 AM"),
     [f"{HOURS}.days.1"]),
    ("agentless without flow", "Agentless", _without("experienceFlowName"),
     ["experienceFlowName"]),
    ("progressive without queue", "Progressive", _without("queue_name"), ["queue_name"]),
    ("preview without queue", "Preview", _without("queue_name"), ["queue_name"]),
    ("preview without skips", "Preview", _without("maxSkips"), ["maxSkips"]),
    ("machine detect unknown", "Agentless", _set("enableMachineDetect", "maybe"),
     ["enableMachineDetect"]),
    ("dnc name blank", "Progressive", _set("dncLists", {"name": ""}), ["dncLists.name"]),
    ("schedule flag not boolean", "Progressive", _set("schedule", {"isSchedulingEnabled": "no"}),
     ["schedule.isSchedulingEnabled"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "change", "fields"),
    [case[1:] for case in VOICE_CASES],
    ids=[case[0] for case in VOICE_CASES],
)
async def test_each_voice_rule_is_a_400_naming_its_field(
    client: AsyncClient, tenant: Tenant, mode: str, change: Any, fields: list[str]
) -> None:
    await create_list(client, tenant, "Calls")
    body = voice_body("Checked", ["Calls"], mode=mode)
    change(body)

    for family in FAMILIES:
        response = await post_campaign(client, tenant, family, body, "voice")
        errors = assert_validation_error(response, fields)
        assert all(entry["code"] == 400 for entry in errors)
    assert await campaign_ids(client, tenant, "voice") == []


SMS_CASES = [
    ("message missing", _without("message"), ["message"]),
    ("message empty", _set("message", {"message": ""}), ["message"]),
    ("format unknown", _set("format", "rich"), ["format"]),
    ("message too long", _set("message", {"message": "m" * 8193}), ["message.message"]),
    ("calling hours missing", _without("dialingStrategy.callingHours"),
     ["dialingStrategy.callingHours"]),
    ("priority as word", _set("priority", "high"), ["priority"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "fields"), [case[1:] for case in SMS_CASES], ids=[case[0] for case in SMS_CASES]
)
async def test_each_sms_rule_is_a_400_naming_its_field(
    client: AsyncClient, tenant: Tenant, change: Any, fields: list[str]
) -> None:
    await create_list(client, tenant, "Texts")
    body = sms_body("Checked", ["Texts"])
    change(body)

    assert_validation_error(await post_campaign(client, tenant, "v1", body, "sms"), fields)
    assert await campaign_ids(client, tenant, "sms") == []


async def test_every_field_problem_has_its_own_entry(client: AsyncClient, tenant: Tenant) -> None:
    body = voice_body("n" * 49, [], mode="Progressive", priority="9", description="d" * 300)
    body["dialingStrategy"]["maxRingTime"] = 1

    response = await post_campaign(client, tenant, "v2", body, "voice")

    assert_validation_error(
        response,
        ["name", "description", "contactLists", "priority", "dialingStrategy.maxRingTime"],
    )


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b'"campaign"', b"null"],
)
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: AsyncClient, tenant: Tenant, raw: bytes
) -> None:
    response = await client.post(
        CampaignPaths("v2", tenant.bot).prefix,
        params={"campaignType": "voice"},
        content=raw,
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert_validation_error(response, ["body"])


# ---------------------------------------------------------------- list references


@pytest.mark.parametrize("family", FAMILIES)
async def test_every_missing_contact_list_is_named_in_one_400(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_list(client, tenant, "Present")
    body = voice_body("Lists", ["Present", "Absent one", "Absent two"])

    response = await post_campaign(client, tenant, family, body, "voice")

    errors = assert_validation_error(response, ["contactLists"])
    assert errors[0]["msg"] == "These contact lists do not exist: Absent one, Absent two"
    assert await campaign_ids(client, tenant, "voice") == []


async def test_lists_of_another_bot_or_deleted_lists_are_missing(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    bot, other_bot = new_bot_id(), new_bot_id()
    owner = await tenants.create(bots=[bot, other_bot])
    elsewhere = dataclasses.replace(owner, bot=other_bot)
    stranger = await tenants.create(bots=[bot])
    await create_list(client, elsewhere, "Other bot's")
    await create_list(client, stranger, "Other account's")
    doomed = await create_list(client, owner, "Deleted")
    deleted = await client.delete(
        Paths("v2", owner.bot).list(doomed["_id"]), headers=owner.headers()
    )
    assert deleted.status_code == 200, deleted.text

    response = await post_campaign(
        client, owner, "v2", voice_body("C", ["Other bot's", "Other account's", "Deleted"]), "voice"
    )

    errors = assert_validation_error(response, ["contactLists"])
    for name in ("Other bot's", "Other account's", "Deleted"):
        assert name in errors[0]["msg"]


async def test_dnc_list_must_exist_and_be_a_dnc_list(client: AsyncClient, tenant: Tenant) -> None:
    await create_list(client, tenant, "Calls")

    missing = await post_campaign(
        client, tenant, "v2", voice_body("C", ["Calls"], dnc="No such DNC"), "voice"
    )
    not_dnc = await post_campaign(
        client, tenant, "v2", voice_body("C", ["Calls"], dnc="Calls"), "voice"
    )
    dnc_as_contacts = await post_campaign(
        client, tenant, "v2", voice_body("C", ["Calls", DEFAULT_DNC]), "voice"
    )
    everything_wrong = await post_campaign(
        client, tenant, "v2", voice_body("C", ["Gone"], dnc="Calls"), "voice"
    )

    assert "No such DNC" in assert_validation_error(missing, ["dncLists.name"])[0]["msg"]
    assert_validation_error(not_dnc, ["dncLists.name"])
    assert_validation_error(dnc_as_contacts, ["contactLists"])
    assert_validation_error(everything_wrong, ["contactLists", "dncLists.name"])
    assert await campaign_ids(client, tenant, "voice") == []


async def test_contact_lists_show_their_current_names(client: AsyncClient, tenant: Tenant) -> None:
    listed = await create_list(client, tenant, "Before")
    created = await create_campaign(client, tenant, voice_body("Named", ["before", "BEFORE"]))
    # A name given twice is one reference.
    assert created["contactLists"] == ["Before"]

    renamed = await client.put(
        Paths("v2", tenant.bot).list(listed["_id"]),
        json={"name": "After"},
        headers=tenant.headers(),
    )
    assert renamed.status_code == 200, renamed.text

    assert (await get_campaign(client, tenant, created["_id"]))["contactLists"] == ["After"]


# ---------------------------------------------------------------- default DNC


async def test_default_global_dnc_is_made_on_first_use_only(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Calls")
    # Asking for the DNC lists is a first use too.
    [made] = await dnc_lists(client, tenant)

    await create_campaign(client, tenant, voice_body("First", ["Calls"]))
    await create_campaign(client, tenant, voice_body("Second", ["Calls"]))
    # Its name matches case-insensitively, like every list name.
    await create_campaign(client, tenant, voice_body("Third", ["Calls"], dnc=DEFAULT_DNC.upper()))

    dnc = await dnc_lists(client, tenant)
    assert [(item["_id"], item["name"]) for item in dnc] == [(made["_id"], DEFAULT_DNC)]
    full = await client.get(Paths("v2", tenant.bot).list(dnc[0]["_id"]), headers=tenant.headers())
    data = full.json()["data"]
    assert data["listType"] == "dnc"
    assert data["isGlobalDNC"] is True
    assert data["isDefault"] is True
    assert data["source"] == "passiveApi"
    assert data["allowDuplicates"] is False
    assert data["totalRecordCount"] == 0
    assert list(data["mapping"]) == [
        "firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority",
    ]  # fmt: skip
    # Contact lists' get-all leaves DNC lists out.
    all_lists = await client.get(Paths("v2", tenant.bot).get_all, headers=tenant.headers())
    assert [item["name"] for item in all_lists.json()["data"]] == ["Calls"]


async def test_concurrent_first_uses_make_one_default_dnc(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Calls")

    responses = await asyncio.gather(
        *(
            post_campaign(client, tenant, "v2", voice_body(f"Race {i}", ["Calls"]), "voice")
            for i in range(8)
        )
    )

    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    dnc = await dnc_lists(client, tenant)
    assert len(dnc) == 1
    assert {r.json()["data"]["dncLists"]["id"] for r in responses} == {dnc[0]["_id"]}


async def test_a_call_list_holding_the_default_name_is_left_alone(
    app: FastAPI, client: AsyncClient, tenant: Tenant
) -> None:
    # The name is reserved now (tests/lists/test_list_in_use.py), but an older list may hold it.
    squatter = await create_list(client, tenant, "Squatter")
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(ContactList)
            .where(ContactList.account_id == tenant.account_id, ContactList.id == squatter["_id"])
            .values(name=DEFAULT_DNC, lname=DEFAULT_DNC.casefold())
        )
    await create_list(client, tenant, "Calls")

    response = await post_campaign(
        client, tenant, "v1", voice_body("C", ["Calls"], dnc=None), "voice"
    )

    assert response.status_code == 200, response.text
    assert await dnc_lists(client, tenant) == []
    named = await post_campaign(client, tenant, "v2", voice_body("D", ["Calls"]), "voice")
    assert_validation_error(named, ["dncLists.name"])
    kept = await client.get(Paths("v2", tenant.bot).list(squatter["_id"]), headers=tenant.headers())
    assert kept.json()["data"]["listType"] == "call"


# ---------------------------------------------------------------- names


async def test_campaign_names_are_unique_per_bot_case_insensitively(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    bot, other_bot = new_bot_id(), new_bot_id()
    owner = await tenants.create(bots=[bot, other_bot])
    elsewhere = dataclasses.replace(owner, bot=other_bot)
    for who in (owner, elsewhere):
        await create_list(client, who, "Calls")
    await create_campaign(client, owner, voice_body("Renewals", ["Calls"]))

    for family, build in (("v1", voice_body), ("v2", sms_body)):
        duplicate = await post_campaign(
            client, owner, family, build("  RENEWALS ", ["Calls"]), build.__name__[:-5]
        )
        assert_failure(duplicate, 409, "duplicate_name")
    # Another bot has its own names.
    await create_campaign(client, elsewhere, voice_body("Renewals", ["Calls"]))
    assert len(await campaign_ids(client, owner, "voice")) == 1
    assert await campaign_ids(client, owner, "sms") == []


# ---------------------------------------------------------------- update


@pytest.mark.parametrize("family", FAMILIES)
async def test_update_replaces_fields_and_lists(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    for name in ("Old list", "New list", "Second new list"):
        await create_list(client, tenant, name)
    created = await create_campaign(client, tenant, voice_body("Before", ["Old list"]))
    await asyncio.sleep(0.01)
    body = voice_body(
        "After", ["Second new list", "New list"], mode="Agentless", priority="5", description=""
    )

    response = await client.put(
        CampaignPaths(family, tenant.bot).campaign(created["_id"]),
        params={"campaignType": "voice"},
        json=body,
        headers=tenant.headers(auth=tenant.token(sub="u-editor")),
    )

    assert response.status_code == 200, response.text
    reply = response.json()
    assert list(reply) == ["status", "message", "id", "data"]
    assert reply["message"] == "Campaign After details updated successfully"
    assert reply["id"] == created["_id"]
    data = reply["data"]
    assert_keys_in_order(data, FULL_KEYS)
    assert data["name"] == "After"
    assert data["priority"] == "5"
    assert data["dialingMode"] == "Agentless"
    assert data["experienceFlowName"] == "Renewal flow"
    assert "queue_name" not in data
    assert data["contactLists"] == ["Second new list", "New list"]
    assert data["createdAt"] == created["createdAt"]
    assert data["updatedAt"] > created["updatedAt"]
    assert data["updatedBy"] == "u-editor"
    assert data["createdBy"] == "u-tester"
    assert await get_campaign(client, tenant, created["_id"]) == data
    # The old name is free again.
    await create_campaign(client, tenant, voice_body("Before", ["Old list"]))


async def test_sms_update_has_no_top_level_id(client: AsyncClient, tenant: Tenant) -> None:
    await create_list(client, tenant, "Texts")
    created = await create_campaign(client, tenant, sms_body("Texts campaign", ["Texts"]))

    response = await client.put(
        CampaignPaths("v1", tenant.bot).campaign(created["_id"]),
        params={"campaignType": "sms"},
        json=sms_body("Texts campaign", ["Texts"], message={"message": "New text"}),
        headers=tenant.headers(),
    )

    assert response.status_code == 200, response.text
    assert list(response.json()) == ["status", "message", "data"]
    assert response.json()["data"]["message"] == {"message": "New text"}


async def test_update_rejections_change_nothing(client: AsyncClient, tenant: Tenant) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Mine", ["Calls"]))
    await create_campaign(client, tenant, voice_body("Taken", ["Calls"]))
    url = CampaignPaths("v2", tenant.bot).campaign(created["_id"])

    async def put(body: Any, campaign_type: str | None = "voice") -> Any:
        params = {"campaignType": campaign_type} if campaign_type else {}
        return await client.put(url, params=params, json=body, headers=tenant.headers())

    assert_failure(await put(voice_body("taken", ["Calls"])), 409, "duplicate_name")
    assert_validation_error(await put(voice_body("Mine", ["Nope"])), ["contactLists"])
    assert_validation_error(await put(voice_body("Mine", ["Calls"], priority="7")), ["priority"])
    # The campaign is a voice campaign: an SMS body or type does not fit it.
    assert_validation_error(await put(sms_body("Mine", ["Calls"]), "sms"), ["campaignType"])
    assert_validation_error(
        await put(voice_body("Mine", ["Calls"], campaignType="sms")), ["campaignType"]
    )
    assert_validation_error(await put(voice_body("Mine", ["Calls"], dnc=None)), ["dncLists"])
    assert await get_campaign(client, tenant, created["_id"]) == created
    assert_not_found(
        await client.put(
            CampaignPaths("v2", tenant.bot).campaign("cd-00000000-0000-4000-8000-000000000000"),
            params={"campaignType": "voice"},
            json=voice_body("Mine", ["Calls"]),
            headers=tenant.headers(),
        )
    )


# ---------------------------------------------------------------- delete


@pytest.mark.parametrize("family", FAMILIES)
async def test_delete_answers_the_campaign_as_it_was(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Doomed", ["Calls"]))
    url = CampaignPaths(family, tenant.bot).campaign(created["_id"])

    response = await client.delete(url, params={"campaignType": "voice"}, headers=tenant.headers())

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["message"] == "Campaign Doomed deleted successfully"
    assert reply["data"] == created
    assert_not_found(await client.get(url, headers=tenant.headers()))
    assert_not_found(await client.delete(url, headers=tenant.headers()))
    assert await campaign_ids(client, tenant, "voice") == []
    # Its name is free, and its lists are no longer referenced by it.
    await create_campaign(client, tenant, voice_body("Doomed", ["Calls"]))


async def test_delete_with_the_wrong_type_is_refused(client: AsyncClient, tenant: Tenant) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Kept", ["Calls"]))
    url = CampaignPaths("v1", tenant.bot).campaign(created["_id"])

    wrong = await client.delete(url, params={"campaignType": "sms"}, headers=tenant.headers())
    bad = await client.delete(url, params={"campaignType": "fax"}, headers=tenant.headers())

    assert_validation_error(wrong, ["campaignType"])
    assert_validation_error(bad, ["campaignType"])
    assert await get_campaign(client, tenant, created["_id"]) == created


@pytest.mark.parametrize(
    ("triggers", "deletable"),
    [
        ([], True),
        (["play"], False),
        (["play", "pause"], True),
        (["play", "pause", "resume"], False),
        (["play", "stop"], True),
    ],
)
async def test_only_an_active_campaign_cannot_be_deleted(
    client: AsyncClient, tenant: Tenant, triggers: list[str], deletable: bool
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Running", ["Calls"]))
    for action in triggers:
        assert (await trigger(client, tenant, created["_id"], action)).status_code == 200
    before = await get_campaign(client, tenant, created["_id"])

    response = await client.delete(
        CampaignPaths("v2", tenant.bot).campaign(created["_id"]),
        params={"campaignType": "voice"},
        headers=tenant.headers(),
    )

    if deletable:
        assert response.status_code == 200, response.text
        assert response.json()["data"] == before
    else:
        assert_failure(response, 409, "invalid_state")
        assert await get_campaign(client, tenant, created["_id"]) == before


# ---------------------------------------------------------------- status machine


ALLOWED = [("Ready", "play", "Active"), ("Active", "pause", "Paused"),
           ("Paused", "resume", "Active"), ("Active", "stop", "Stopped")]  # fmt: skip
# How to bring a new campaign into each status.
REACH = {
    "Ready": [],
    "Active": ["play"],
    "Paused": ["play", "pause"],
    "Stopped": ["play", "stop"],
}
DISALLOWED = [
    (status, action)
    for status in REACH
    for action in ("play", "pause", "resume", "stop")
    if (status, action) not in {(s, a) for s, a, _ in ALLOWED}
]


@pytest.mark.parametrize(("status", "action", "target"), ALLOWED)
@pytest.mark.parametrize("campaign_type", ["voice", "sms"])
async def test_each_allowed_transition(
    client: AsyncClient,
    tenant: Tenant,
    status: str,
    action: str,
    target: str,
    campaign_type: str,
) -> None:
    await create_list(client, tenant, "Calls")
    build = voice_body if campaign_type == "voice" else sms_body
    created = await create_campaign(client, tenant, build("Machine", ["Calls"]))
    for step in REACH[status]:
        reached = await trigger(client, tenant, created["_id"], step, campaign_type=campaign_type)
        assert reached.status_code == 200, reached.text
    before = await get_campaign(client, tenant, created["_id"])
    assert before["status"] == status
    await asyncio.sleep(0.01)

    response = await trigger(client, tenant, created["_id"], action, campaign_type=campaign_type)

    assert response.status_code == 200, response.text
    reply = response.json()
    after = await get_campaign(client, tenant, created["_id"])
    assert after["status"] == target
    assert after["updatedAt"] > before["updatedAt"]
    messages = {"play": "Campaign Started", "pause": "Campaign Paused",
                "resume": "Campaign Resumed", "stop": "Campaign Stopped"}  # fmt: skip
    expected: dict[str, Any] = {"status": target, "message": messages[action]}
    if campaign_type == "voice" and action == "play":
        expected["totalCallsCompleted"] = 0
    expected["updatedAt"] = after["updatedAt"]
    if campaign_type == "voice":
        expected["campaignInstanceId"] = after["campaignInstanceId"]
    elif action in ("pause", "stop"):
        expected["campaignExecutionType"] = "NORMAL"
    assert reply == expected
    assert list(reply) == list(expected)
    assert re.match(r"^cid-[0-9a-f-]{36}$", after["campaignInstanceId"])
    if action == "play":
        assert after["campaignInstanceId"] != before.get("campaignInstanceId")
    else:
        # A run keeps its instance until the next play.
        assert after["campaignInstanceId"] == before["campaignInstanceId"]


@pytest.mark.parametrize(("status", "action"), DISALLOWED)
async def test_each_transition_not_listed_is_a_409(
    client: AsyncClient, tenant: Tenant, status: str, action: str
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Machine", ["Calls"]))
    for step in REACH[status]:
        assert (await trigger(client, tenant, created["_id"], step)).status_code == 200
    before = await get_campaign(client, tenant, created["_id"])

    response = await trigger(client, tenant, created["_id"], action)

    assert_failure(response, 409, "invalid_state")
    assert await get_campaign(client, tenant, created["_id"]) == before


@pytest.mark.parametrize("path", sorted(TRIGGER_PATHS))
async def test_every_documented_trigger_path_works(
    client: AsyncClient, tenant: Tenant, path: str
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Paths", ["Calls"]))

    started = await trigger(client, tenant, created["_id"], "play", path=path)
    stopped = await trigger(client, tenant, created["_id"], "stop", path=path)

    assert started.status_code == 200, started.text
    assert started.json()["status"] == "Active"
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "Stopped"


@pytest.mark.parametrize("path", sorted(TRIGGER_PATHS))
async def test_a_trigger_route_without_trigger_is_a_400(
    client: AsyncClient, tenant: Tenant, path: str
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Paths", ["Calls"]))
    url = TRIGGER_PATHS[path].format(bot=tenant.bot, id=created["_id"])

    missing = await client.post(url, params={"campaignType": "voice"}, headers=tenant.headers())
    unknown = await client.post(
        url, params={"campaignType": "voice", "trigger": "rewind"}, headers=tenant.headers()
    )
    wrong_type = await client.post(
        url, params={"campaignType": "sms", "trigger": "play"}, headers=tenant.headers()
    )

    assert_validation_error(missing, ["trigger"])
    assert_validation_error(unknown, ["trigger"])
    assert_validation_error(wrong_type, ["campaignType"])
    assert (await get_campaign(client, tenant, created["_id"]))["status"] == "Ready"


async def test_of_concurrent_plays_exactly_one_starts_the_campaign(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Calls")
    for round_ in range(3):
        created = await create_campaign(
            client, tenant, voice_body(f"Contended {round_}", ["Calls"])
        )

        responses = await asyncio.gather(
            *(
                trigger(client, tenant, created["_id"], "play", path=path)
                for path in sorted(TRIGGER_PATHS) * 2
            )
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * (len(responses) - 1), statuses
        winner = next(response for response in responses if response.status_code == 200)
        shown = await get_campaign(client, tenant, created["_id"])
        assert shown["campaignInstanceId"] == winner.json()["campaignInstanceId"]


# ---------------------------------------------------------------- status route


@pytest.mark.parametrize("family", FAMILIES)
async def test_status_route_answers_id_status_and_name(
    client: AsyncClient, tenant: Tenant, family: str
) -> None:
    await create_list(client, tenant, "Calls")
    created = await create_campaign(client, tenant, voice_body("Watched", ["Calls"]))
    await trigger(client, tenant, created["_id"], "play")
    url = CampaignPaths(family, tenant.bot).status(created["_id"])

    response = await client.post(url, params={"view": "status"}, json={}, headers=tenant.headers())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "success",
        "data": {"id": created["_id"], "status": "Active", "name": "Watched"},
    }
    assert list(response.json()["data"]) == ["id", "status", "name"]
    # view=contacts is served too (tests/dialer/test_kore.py); other views are not.
    other_view = await client.post(url, params={"view": "summary"}, headers=tenant.headers())
    assert_validation_error(other_view, ["view"])


# ---------------------------------------------------------------- tenancy and scopes


@pytest.mark.parametrize("intruder_kind", ["other account, same bot", "same account, other bot"])
async def test_campaigns_of_another_account_or_bot_do_not_exist(
    client: AsyncClient, tenants: TenantFactory, intruder_kind: str
) -> None:
    owner_bot, other_bot = new_bot_id(), new_bot_id()
    owner = await tenants.create(bots=[owner_bot, other_bot])
    if intruder_kind == "other account, same bot":
        intruder = await tenants.create(bots=[owner_bot])
    else:
        intruder = dataclasses.replace(owner, bot=other_bot)
    await create_list(client, owner, "Calls")
    await create_list(client, intruder, "Calls")
    created = await create_campaign(client, owner, voice_body("Private", ["Calls"]))
    campaign_id = created["_id"]

    for family in FAMILIES:
        paths = CampaignPaths(family, intruder.bot)
        headers = intruder.headers()
        assert_not_found(await client.get(paths.campaign(campaign_id), headers=headers))
        assert_not_found(
            await client.put(
                paths.campaign(campaign_id),
                params={"campaignType": "voice"},
                json=voice_body("Private", ["Calls"]),
                headers=headers,
            )
        )
        assert_not_found(await client.delete(paths.campaign(campaign_id), headers=headers))
        assert_not_found(
            await client.post(paths.status(campaign_id), params={"view": "status"}, headers=headers)
        )
    for path in TRIGGER_PATHS:
        assert_not_found(await trigger(client, intruder, campaign_id, "play", path=path))
    assert await campaign_ids(client, intruder, "voice") == []
    assert await get_campaign(client, owner, campaign_id) == created


async def test_read_scope_reads_but_does_not_write(
    client: AsyncClient, tenants: TenantFactory
) -> None:
    bot = new_bot_id()
    writer = await tenants.create(bots=[bot])
    reader = await tenants.create(
        bots=[bot], account_id=writer.account_id, scopes=(apps.SCOPE_READ,)
    )
    await create_list(client, writer, "Calls")
    created = await create_campaign(client, writer, voice_body("Shared", ["Calls"]))
    paths = CampaignPaths("v1", bot)

    assert (await get_campaign(client, reader, created["_id"], "v1")) == created
    status = await client.post(paths.status(created["_id"]), headers=reader.headers())
    assert status.status_code == 200, status.text
    assert await campaign_ids(client, reader, "voice") == [created["_id"]]
    denied = [
        await post_campaign(client, reader, "v1", voice_body("Mine", ["Calls"]), "voice"),
        await client.put(
            paths.campaign(created["_id"]),
            params={"campaignType": "voice"},
            json=voice_body("Shared", ["Calls"]),
            headers=reader.headers(),
        ),
        await client.delete(paths.campaign(created["_id"]), headers=reader.headers()),
        await trigger(client, reader, created["_id"], "play"),
    ]
    for response in denied:
        assert_failure(response, 403, "forbidden", code=4003)
    assert await get_campaign(client, writer, created["_id"]) == created


async def test_requests_without_credentials_are_401(client: AsyncClient, tenant: Tenant) -> None:
    paths = CampaignPaths("v2", tenant.bot)
    some_id = "cd-00000000-0000-4000-8000-000000000000"
    requests = [
        client.post(paths.prefix, params={"campaignType": "voice"}, json={}),
        client.post(paths.get_all, json={"type": "voice"}),
        client.get(paths.campaign(some_id)),
        client.post(paths.campaign(some_id), params={"trigger": "play"}),
    ]
    for response in await asyncio.gather(*requests):
        assert_failure(response, 401, "invalid_credentials", code=4002)


async def test_ids_that_are_not_campaign_ids_are_not_routes(
    client: AsyncClient, tenant: Tenant
) -> None:
    paths = CampaignPaths("v1", tenant.bot)
    for bad in ("cl-00000000-0000-4000-8000-000000000000", "nope"):
        assert_not_found(await client.get(paths.campaign(bad), headers=tenant.headers()))
    # getAllCampaignDetails is POST only; a GET is not taken for a campaign id.
    response = await client.get(paths.get_all, headers=tenant.headers())
    assert_failure(response, 405, "method_not_allowed")
