"""Filters on getAllContacts and export (CONTRACT §4.9): phoneNumber, search, fields.<name>,
timeZone, createdAfter and createdBefore, alone and combined, with the cursor.

The property test fills a list through the intake with random names, uniqueIds, custom fields,
zones and (set afterwards) creation times, draws random filters, pages through every page with
the cursor and compares with a brute-force filter of the whole list, in order; the export with
the same filters must hold the same contacts.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import update

from contactlists.contacts import repository
from contactlists.models.contacts import Contact
from tests.support.contacts import add_contacts, all_contacts, create_list
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.fill import fill_list
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory

pytestmark = pytest.mark.anyio

RunJobs = Callable[[], Awaitable[int]]
Params = list[tuple[str, str]]

# Text that case folding and LIKE would treat specially: cases, ß (folds to "ss"), wildcards.
NAME_ALPHABET = "aAbBsSß%_ É"
ZONES = ["America/New_York", "America/Chicago", "Europe/London"]
FIELD_NAMES = ["plan", "Tier", 'a"b', "x.y"]
FIELD_VALUES = ["gold", "Gold", "", "10%", "a_b"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
NEW_YORK = 5550100


def contacts_url(tenant: Tenant, list_id: str, family: str = "v1") -> str:
    return f"{Paths(family, tenant.bot).list(list_id)}/getAllContacts"


def export_url(tenant: Tenant, list_id: str, family: str = "v1") -> str:
    return f"{Paths(family, tenant.bot).list(list_id)}/export"


async def get_page(
    client: AsyncClient, tenant: Tenant, list_id: str, params: Params, family: str = "v1"
) -> Response:
    return await client.get(
        contacts_url(tenant, list_id, family), params=params, headers=tenant.headers()
    )


async def every_page(
    client: AsyncClient, tenant: Tenant, list_id: str, params: Params, limit: int, family: str
) -> list[str]:
    """The ids of every page under ``params``, following the cursor."""
    ids: list[str] = []
    cursor: Params = []
    while True:
        response = await get_page(
            client, tenant, list_id, [*params, ("limit", str(limit)), *cursor], family
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert len(data["results"]) <= limit
        ids += [contact["_id"] for contact in data["results"]]
        if data["nextCursor"] is None:
            assert data["hasMore"] is False
            return ids
        assert data["hasMore"] is True
        assert data["results"]
        cursor = [("cursor", data["nextCursor"])]


async def exported_ids(
    client: AsyncClient, tenant: Tenant, list_id: str, params: Params, family: str = "v1"
) -> list[str]:
    response = await client.get(
        export_url(tenant, list_id, family), params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "_id"
    return [row[0] for row in rows[1:]]


async def set_created(
    app: FastAPI, tenant: Tenant, list_id: str, created: dict[str, datetime]
) -> None:
    """Give contacts the creation times the test chose (the intake stamps one per batch)."""
    async with app.state.sessionmaker() as session, session.begin():
        for contact_id, moment in created.items():
            await session.execute(
                update(Contact)
                .where(Contact.account_id == tenant.account_id, Contact.id == contact_id)
                .values(created_at=moment)
            )


# ---------------------------------------------------------------- the brute force


def matches(contact: dict[str, Any], created: datetime, filters: dict[str, Any]) -> bool:
    """Whether a contact, as listed, passes ``filters`` (the meaning CONTRACT §4.9 gives)."""
    if "phone" in filters and contact["phoneNumber"] != filters["phone"]:
        return False
    search = filters.get("search", "").strip().casefold()
    if search and not any(
        (contact[key] or "").casefold().startswith(search) and contact[key] is not None
        for key in ("firstName", "lastName", "uniqueId")
    ):
        return False
    for name, value in filters.get("fields", []):
        if contact["fields"].get(name) != value:
            return False
    if "zone" in filters and contact["timeZone"] != filters["zone"]:
        return False
    if "after" in filters and created < filters["after"]:
        return False
    return not ("before" in filters and created >= filters["before"])


def as_params(filters: dict[str, Any]) -> Params:
    params: Params = []
    if "phone_written" in filters:
        params.append(("phoneNumber", filters["phone_written"]))
    if "search" in filters:
        params.append(("search", filters["search"]))
    params += [(f"fields.{name}", value) for name, value in filters.get("fields", [])]
    if "zone" in filters:
        params.append(("timeZone", filters["zone"]))
    for key, name in (("after", "createdAfter"), ("before", "createdBefore")):
        if key in filters:
            params.append((name, filters[key].isoformat()))
    return params


# ---------------------------------------------------------------- the property


names = st.none() | st.text(NAME_ALPHABET, min_size=1, max_size=4).filter(lambda t: t.strip())
items = st.fixed_dictionaries(
    {"firstName": names, "lastName": names, "uniqueId": names},
    optional={
        "timeZone": st.sampled_from(ZONES),
        "fields": st.dictionaries(
            st.sampled_from(FIELD_NAMES), st.sampled_from(FIELD_VALUES), max_size=2
        ),
    },
)


def national(number: int) -> str:
    """+1 212 <number> as a person in the US writes it."""
    digits = str(number)
    return f"(212) {digits[:3]}-{digits[3:]}"


@pytest.fixture
def list_names() -> itertools.count[int]:
    return itertools.count()


@pytest.fixture(params=["service threshold", "every search common"])
def search_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both plans of a search: the key indexes (the test's lists are small, so their searches
    are rare) and the ordered scan, which a threshold of 0 makes every search take."""
    if request.param == "every search common":
        monkeypatch.setattr(repository, "RARE_SEARCH", 0)
    return str(request.param)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Contacts to add, their creation times, filters over them, a family and a page size.

    Drawn at once, before the test's first request: the filters aim at what was drawn.
    """
    drawn = draw(st.lists(items, max_size=14))
    times = draw(
        st.lists(
            st.integers(0, 6).map(lambda hours: BASE + timedelta(hours=hours)),
            min_size=len(drawn),
            max_size=len(drawn),
        )
    )
    filters: dict[str, Any] = {}
    if draw(st.booleans()):
        number = NEW_YORK + draw(st.integers(0, max(len(drawn), 1)))
        filters["phone"] = f"+1212{number}"
        filters["phone_written"] = draw(
            st.sampled_from([national(number), f"+1 212 {number}", f"1-212-{number}"])
        )
    if draw(st.booleans()):
        values = [
            item[key]
            for item in drawn
            for key in ("firstName", "lastName", "uniqueId")
            if item[key] is not None
        ]
        prefix = st.text(NAME_ALPHABET, min_size=1, max_size=3)
        if values:
            prefix |= st.sampled_from(values).flatmap(
                lambda v: st.integers(1, len(v)).map(lambda n: v[:n].swapcase())
            )
        filters["search"] = draw(prefix)
    filters["fields"] = draw(
        st.lists(
            st.tuples(st.sampled_from(FIELD_NAMES), st.sampled_from(FIELD_VALUES)),
            max_size=2,
            unique_by=lambda pair: pair[0],
        )
    )
    if draw(st.booleans()):
        filters["zone"] = draw(st.sampled_from(ZONES))
    after = draw(st.none() | st.integers(0, 6))
    before = draw(st.none() | st.integers(0, 7))
    if after is not None:
        filters["after"] = BASE + timedelta(hours=after)
    if before is not None and (after is None or before > after):
        filters["before"] = BASE + timedelta(hours=before)
    return {
        "items": drawn,
        "times": times,
        "filters": filters,
        "family": draw(st.sampled_from(["v1", "v2"])),
        "limit": draw(st.integers(1, 5)),
    }


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_filtered_pages_equal_a_brute_force_filter_in_order(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    list_names: itertools.count[int],
    search_plan: str,
    scenario: dict[str, Any],
) -> None:
    drawn, filters = scenario["items"], scenario["filters"]
    created_list = await create_list(client, tenant, f"Filters {next(list_names)}")
    list_id = created_list["_id"]
    if drawn:
        sent = [
            {
                "phoneNumber": f"+1212{NEW_YORK + index}",
                **{k: v for k, v in item.items() if k != "fields" and v is not None},
                **item.get("fields", {}),
            }
            for index, item in enumerate(drawn)
        ]
        await add_contacts(client, tenant, created_list["name"], sent)
        await run_jobs()
    stored = await all_contacts(client, tenant, list_id)
    assert len(stored) == len(drawn)
    created = {c["_id"]: moment for c, moment in zip(stored, scenario["times"], strict=True)}
    await set_created(app, tenant, list_id, created)

    expected = [c["_id"] for c in stored if matches(c, created[c["_id"]], filters)]
    params = as_params(filters)
    event(
        f"matches: {'none' if not expected else 'some' if len(expected) < len(stored) else 'all'}"
    )

    pages = await every_page(client, tenant, list_id, params, scenario["limit"], scenario["family"])
    assert pages == expected
    assert await exported_ids(client, tenant, list_id, params, scenario["family"]) == expected


# ---------------------------------------------------------------- each filter, by example


SEEDED = [
    {"phoneNumber": "+12125550100", "firstName": "Ann", "lastName": "Ames", "plan": "gold"},
    {"phoneNumber": "+12125550101", "firstName": "anna", "uniqueId": "U-7", "plan": "Gold"},
    {"phoneNumber": "+442079460000", "lastName": "Annan", "plan": "silver"},
    {"phoneNumber": "+12125550103", "firstName": "a%b", "uniqueId": "a_b"},
    {"phoneNumber": "+12125550104", "firstName": "axb", "uniqueId": "aXbc"},
    {"phoneNumber": "+12125550105", "firstName": "Straße"},
]


async def seeded(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, name: str
) -> tuple[str, list[dict[str, Any]]]:
    created = await create_list(client, tenant, name)
    await add_contacts(client, tenant, name, SEEDED)
    await run_jobs()
    return created["_id"], await all_contacts(client, tenant, created["_id"])


def first_names(page: Response) -> list[str | None]:
    assert page.status_code == 200, page.text
    return [c["firstName"] or c["lastName"] for c in page.json()["data"]["results"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("search", "ANN")], ["Ann", "anna", "Annan"]),
        ([("search", "  am")], ["Ann"]),
        ([("search", "u-")], ["anna"]),
        # Wildcards are literal: `%` and `_` match only themselves.
        ([("search", "a%")], ["a%b"]),
        ([("search", "a_")], ["a%b"]),
        ([("search", "%")], []),
        ([("search", "_")], []),
        ([("search", "STRASS")], ["Straße"]),
        ([("phoneNumber", "(212) 555-0101")], ["anna"]),
        ([("phoneNumber", "+44 20 7946 0000")], ["Annan"]),
        ([("fields.plan", "gold")], ["Ann"]),
        ([("fields.plan", "Gold"), ("search", "ann")], ["anna"]),
        ([("fields.absent", "x")], []),
        ([("timeZone", "Europe/London")], ["Annan"]),
        ([("search", "")], ["Ann", "anna", "Annan", "a%b", "axb", "Straße"]),
    ],
)
async def test_each_filter_by_example(
    client: AsyncClient,
    tenant: Tenant,
    run_jobs: RunJobs,
    unique_name: str,
    search_plan: str,
    params: Params,
    expected: list[str],
) -> None:
    list_id, _ = await seeded(client, tenant, run_jobs, unique_name)
    assert first_names(await get_page(client, tenant, list_id, params)) == expected


async def test_a_filtered_page_does_not_count_the_matches(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, _ = await seeded(client, tenant, run_jobs, unique_name)
    plain = (await get_page(client, tenant, list_id, [("limit", "2")])).json()["data"]
    assert (plain["totalResults"], plain["totalPages"]) == (len(SEEDED), 3)
    filtered = await get_page(client, tenant, list_id, [("search", "ann"), ("limit", "2")])
    data = filtered.json()["data"]
    assert (data["totalResults"], data["totalPages"], data["hasMore"]) == (None, None, True)


async def test_an_update_moves_the_contact_in_the_search(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded(client, tenant, run_jobs, unique_name)
    url = f"{Paths('v1', tenant.bot).list(list_id)}/contacts/{stored[0]['_id']}"
    response = await client.put(url, json={"firstName": "Zoë"}, headers=tenant.headers())
    assert response.status_code == 200, response.text

    assert first_names(await get_page(client, tenant, list_id, [("search", "ZOË")])) == ["Zoë"]
    # Still found by its last name, no longer by its old first name.
    assert first_names(await get_page(client, tenant, list_id, [("search", "ann")])) == [
        "anna",
        "Annan",
    ]


async def test_a_naive_time_is_utc_and_the_range_is_half_open(
    app: FastAPI, client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str
) -> None:
    list_id, stored = await seeded(client, tenant, run_jobs, unique_name)
    moments = {c["_id"]: BASE + timedelta(hours=i) for i, c in enumerate(stored)}
    await set_created(app, tenant, list_id, moments)
    params = [("createdAfter", "2026-01-01T01:00:00"), ("createdBefore", "2026-01-01T05:00:00+02")]
    assert first_names(await get_page(client, tenant, list_id, params)) == ["anna", "Annan"]


# ---------------------------------------------------------------- the cursor


async def test_a_cursor_is_valid_only_with_its_own_filters(
    client: AsyncClient, tenant: Tenant, run_jobs: RunJobs, unique_name: str, search_plan: str
) -> None:
    list_id, _ = await seeded(client, tenant, run_jobs, unique_name)
    search = [("search", "ann"), ("limit", "1")]
    first = (await get_page(client, tenant, list_id, search)).json()["data"]
    cursor = ("cursor", first["nextCursor"])
    plain = (await get_page(client, tenant, list_id, [("limit", "1")])).json()["data"]

    # The same filters, written differently (case, spaces), are the same filters.
    same = await get_page(client, tenant, list_id, [("search", " ANN "), ("limit", "1"), cursor])
    assert first_names(same) == ["anna"]
    for params in (
        [("search", "an"), cursor],
        [cursor],
        [("search", "ann"), ("fields.plan", "gold"), cursor],
        [("search", "ann"), ("cursor", plain["nextCursor"])],
    ):
        response = await get_page(client, tenant, list_id, params)
        assert_validation_error(response, ["cursor"])
        assert "other filters" in response.json()["errors"][0]["msg"]


# ---------------------------------------------------------------- the plan


@pytest.mark.parametrize(
    ("search", "common"),
    [("FIR", True), ("ZE", False)],
    ids=["common prefix: ordered scan", "rare prefix: key indexes"],
)
async def test_the_plan_follows_how_common_the_prefix_is(
    app: FastAPI,
    client: AsyncClient,
    tenant: Tenant,
    unique_name: str,
    search: str,
    common: bool,
) -> None:
    created = await create_list(client, tenant, unique_name)
    list_id = created["_id"]
    await fill_list(
        app.state.sessionmaker, tenant.account_id, list_id, repository.RARE_SEARCH + 100
    )
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Contact)
            .where(Contact.account_id == tenant.account_id, Contact.position <= 3)
            .values(first_name="Zed", first_key="zed")
        )
    first = await get_page(client, tenant, list_id, [("search", search), ("limit", "2")])
    cursor = first.json()["data"]["nextCursor"]
    statements: list[str] = []

    def record(*arguments: Any) -> None:
        statements.append(arguments[2])

    engine = app.state.engine.sync_engine
    sqlalchemy_event.listen(engine, "before_cursor_execute", record)
    try:
        second = await get_page(
            client, tenant, list_id, [("search", search), ("limit", "2"), ("cursor", cursor)]
        )
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", record)

    phones = [c["phoneNumber"] for c in second.json()["data"]["results"]]
    assert phones == (["+12122000006", "+12122000007"] if common else ["+12122000003"])
    (query,) = [s for s in statements if "ORDER BY contact.position" in s]
    # `key || ''` keeps the key indexes out; `position + 0` keeps the primary key out.
    assert ("contact.first_key ||" in query) is common
    assert ("contact.position +" in query) is not common
    if app.state.engine.dialect.name == "postgresql":
        assert any("enable_bitmapscan = off" in s for s in statements) is common


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ([("phoneNumber", "not a number")], ["phoneNumber"]),
        ([("phoneNumber", "555 555 5555")], ["phoneNumber"]),
        ([("phoneNumber", "12")], ["phoneNumber"]),
        ([("timeZone", "Mars/Olympus")], ["timeZone"]),
        ([("timeZone", "america/new_york")], ["timeZone"]),
        ([("timeZone", "localtime")], ["timeZone"]),
        ([("createdAfter", "yesterday")], ["createdAfter"]),
        ([("createdBefore", "2026-13-01")], ["createdBefore"]),
        ([("createdAfter", "9999-12-31T23:59:59-14:00")], ["createdAfter"]),
        (
            [("createdAfter", "2026-02-01T00:00:00Z"), ("createdBefore", "2026-01-01")],
            ["createdAfter"],
        ),
        (
            [("createdAfter", "2026-01-01T00:00:00Z"), ("createdBefore", "2026-01-01T00:00:00Z")],
            ["createdAfter"],
        ),
        ([(f"fields.f{i}", "x") for i in range(11)], ["fields"]),
        ([("fields.plan", "a"), ("fields.plan", "b")], ["fields.plan"]),
        ([("fields.", "x")], ["fields."]),
        ([("fields." + "n" * 101, "x")], ["fields." + "n" * 100]),
        ([("fields.plan", "x" * 301)], ["fields.plan"]),
        ([("fields.plan", "a\x00")], ["fields.plan"]),
        ([("search", "a\x00")], ["search"]),
        ([("search", "a" * 301)], ["search"]),
        (
            [("phoneNumber", "x"), ("timeZone", "x"), ("createdBefore", "x")],
            ["phoneNumber", "timeZone", "createdBefore"],
        ),
    ],
)
@pytest.mark.parametrize("route", ["getAllContacts", "export"])
async def test_a_bad_filter_is_a_400_naming_it(
    client: AsyncClient,
    tenant: Tenant,
    unique_name: str,
    params: Params,
    fields: list[str],
    route: str,
) -> None:
    created = await create_list(client, tenant, unique_name)
    url = f"{Paths('v2', tenant.bot).list(created['_id'])}/{route}"
    response = await client.get(url, params=params, headers=tenant.headers())
    assert_validation_error(response, fields)


@pytest.mark.parametrize("route", ["getAllContacts", "export"])
async def test_another_tenants_list_is_not_found_whatever_the_filters(
    client: AsyncClient, tenants: TenantFactory, run_jobs: RunJobs, unique_name: str, route: str
) -> None:
    owner, stranger = await tenants.create(), await tenants.create()
    list_id, _ = await seeded(client, owner, run_jobs, unique_name)
    for params in ([("search", "ann")], [("phoneNumber", "bad")], [("fields.plan", "gold")]):
        response = await client.get(
            f"{Paths('v1', stranger.bot).list(list_id)}/{route}",
            params=params,
            headers=stranger.headers(),
        )
        assert_failure(response, 404, "not_found")
