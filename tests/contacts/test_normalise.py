"""Import items to contacts or row errors (CONTRACT §4.6, §4.8): the rules of `normalise_item`.

An accepted item becomes a Contact with an E.164 number, a checked or derived time zone and its
fields as text; a rejected one becomes exactly one RowError, for its first problem in a fixed
order. Properties check that no item, however odd, makes it raise or produce unstorable text.
"""

from __future__ import annotations

import math
import pickle
import re
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from contactlists.contacts.normalise import (
    KNOWN_FIELDS,
    MAX_CUSTOM_FIELDS,
    MAX_FIELD_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    Contact,
    RowError,
    normalise_item,
    normalise_rows,
)
from contactlists.contacts.phones import is_time_zone, time_zone_of

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
UNSTORABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
NY = "+12125551234"


def contact(item: dict[str, Any], region: str = "US", row: int = 1) -> Contact:
    result = normalise_item(row, item, region)
    assert isinstance(result, Contact), result
    return result


def error(item: dict[str, Any], region: str = "US", row: int = 1) -> RowError:
    result = normalise_item(row, item, region)
    assert isinstance(result, RowError), result
    return result


# ---------------------------------------------------------------- accepted items


def test_a_minimal_item() -> None:
    assert normalise_item(7, {"phoneNumber": "(212) 555-1234"}, "US") == Contact(
        row=7,
        phone=NY,
        phone_verified=True,
        first_name=None,
        last_name=None,
        time_zone="America/New_York",
        unique_id=None,
        contact_priority=None,
        fields={},
    )


def test_every_known_field() -> None:
    item = {
        "phoneNumber": "+44 20 7946 0000",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "timeZone": "Europe/Paris",
        "uniqueId": "u-1",
        "contactPriority": "high",
    }
    assert contact(item) == Contact(
        row=1,
        phone="+442079460000",
        phone_verified=True,
        first_name="Ada",
        last_name="Lovelace",
        time_zone="Europe/Paris",  # given, so kept even where the number says otherwise
        unique_id="u-1",
        contact_priority="high",
        fields={},
    )


def test_the_region_reads_national_numbers() -> None:
    assert contact({"phoneNumber": "020 7946 0000"}, "GB").phone == "+442079460000"
    assert contact({"phoneNumber": "2079460000"}, "US").phone == "+12079460000"


def test_text_is_stripped_and_blank_is_absent() -> None:
    result = contact(
        {
            "phoneNumber": "  +12125551234 ",
            "firstName": "  Ada\t",
            "lastName": "   ",
            "uniqueId": "",
            "contactPriority": None,
        }
    )
    assert result.phone == NY
    assert result.first_name == "Ada"
    assert result.last_name is None
    assert result.unique_id is None
    assert result.contact_priority is None


def test_numbers_in_known_fields_become_text() -> None:
    result = contact(
        {"phoneNumber": 12125551234, "firstName": 42, "uniqueId": 1.5, "contactPriority": -3}
    )
    assert result.phone == NY
    assert result.first_name == "42"
    assert result.unique_id == "1.5"
    assert result.contact_priority == "-3"


@pytest.mark.parametrize("absent", [{}, {"timeZone": None}, {"timeZone": ""}, {"timeZone": "  "}])
def test_an_absent_time_zone_is_derived_from_the_number(absent: dict[str, Any]) -> None:
    assert contact({"phoneNumber": NY, **absent}).time_zone == "America/New_York"
    assert contact({"phoneNumber": "+18005551234", **absent}).time_zone is None  # toll-free
    assert contact({"phoneNumber": "+79123456789", **absent}).time_zone is None  # many zones


def test_a_given_time_zone_is_stripped() -> None:
    assert contact({"phoneNumber": NY, "timeZone": " Asia/Tokyo "}).time_zone == "Asia/Tokyo"


def test_custom_fields_keep_their_order_and_become_text() -> None:
    item = {
        "zeta": "last letter",
        "phoneNumber": NY,
        "count": 3,
        "ratio": 0.25,
        "active": True,
        "archived": False,
        "notes": None,
        "firstName": "Ada",
        "padded": "  kept as given\t",
        "big": 10**20,
        "alpha": "",
    }
    result = contact(item)
    assert result.fields == {
        "zeta": "last letter",
        "count": "3",
        "ratio": "0.25",
        "active": "true",
        "archived": "false",
        "notes": "",
        "padded": "  kept as given\t",
        "big": "100000000000000000000",
        "alpha": "",
    }
    assert list(result.fields) == [key for key in item if key not in KNOWN_FIELDS]


def test_limits_are_inclusive() -> None:
    longest = "x" * MAX_VALUE_LENGTH
    item: dict[str, Any] = {"phoneNumber": NY, "firstName": longest}
    item |= {f"f{i}".ljust(MAX_FIELD_NAME_LENGTH, "_"): longest for i in range(MAX_CUSTOM_FIELDS)}
    result = contact(item)
    assert result.first_name == longest
    assert len(result.fields) == MAX_CUSTOM_FIELDS


def test_tab_is_allowed_inside_values() -> None:
    result = contact({"phoneNumber": NY, "firstName": "A\tB", "notes": "a\tb"})
    assert result.first_name == "A\tB"
    assert result.fields == {"notes": "a\tb"}


# ---------------------------------------------------------------- row errors


TOO_LONG = "x" * (MAX_VALUE_LENGTH + 1)
CUSTOM_LIMIT = {f"f{i}": "v" for i in range(MAX_CUSTOM_FIELDS)}


@pytest.mark.parametrize(
    ("item", "field", "code", "value"),
    [
        # required
        ({}, "phoneNumber", "required", ""),
        ({"phoneNumber": None}, "phoneNumber", "required", ""),
        ({"phoneNumber": "  "}, "phoneNumber", "required", "  "),
        ({"firstName": "Ada"}, "phoneNumber", "required", ""),
        # invalid_type
        ({"phoneNumber": True}, "phoneNumber", "invalid_type", "true"),
        ({"phoneNumber": 2125551234.0}, "phoneNumber", "invalid_type", "2125551234.0"),
        ({"phoneNumber": [NY]}, "phoneNumber", "invalid_type", '["+12125551234"]'),
        ({"phoneNumber": {"n": 1}}, "phoneNumber", "invalid_type", '{"n": 1}'),
        ({"phoneNumber": NY, "timeZone": 5}, "timeZone", "invalid_type", "5"),
        ({"phoneNumber": NY, "timeZone": ["UTC"]}, "timeZone", "invalid_type", '["UTC"]'),
        ({"phoneNumber": NY, "firstName": False}, "firstName", "invalid_type", "false"),
        ({"phoneNumber": NY, "lastName": ["a"]}, "lastName", "invalid_type", '["a"]'),
        ({"phoneNumber": NY, "uniqueId": {}}, "uniqueId", "invalid_type", "{}"),
        (
            {"phoneNumber": NY, "contactPriority": math.nan},
            "contactPriority",
            "invalid_type",
            "NaN",
        ),
        ({"phoneNumber": NY, "firstName": math.inf}, "firstName", "invalid_type", "Infinity"),
        ({"phoneNumber": NY, "tags": ["a", "b"]}, "tags", "invalid_type", '["a", "b"]'),
        (
            {"phoneNumber": NY, "address": {"city": "Oslo"}},
            "address",
            "invalid_type",
            '{"city": "Oslo"}',
        ),
        ({"phoneNumber": NY, "score": -math.inf}, "score", "invalid_type", "-Infinity"),
        # too_long
        ({"phoneNumber": "1" * 301}, "phoneNumber", "too_long", "1" * 300),
        ({"phoneNumber": NY, "timeZone": "A" * 301}, "timeZone", "too_long", "A" * 300),
        ({"phoneNumber": NY, "firstName": TOO_LONG}, "firstName", "too_long", TOO_LONG[:300]),
        ({"phoneNumber": NY, "uniqueId": 10**301}, "uniqueId", "too_long", "1" + "0" * 299),
        ({"phoneNumber": NY, "notes": TOO_LONG}, "notes", "too_long", TOO_LONG[:300]),
        ({"phoneNumber": NY, "n": 10**5000}, "n", "too_long", ""),  # too big to write out
        # invalid_characters
        (
            {"phoneNumber": "+1212555\x001234"},
            "phoneNumber",
            "invalid_characters",
            "+1212555\ufffd1234",
        ),
        ({"phoneNumber": NY, "timeZone": "UTC\x00"}, "timeZone", "invalid_characters", "UTC\ufffd"),
        ({"phoneNumber": NY, "firstName": "A\x00B"}, "firstName", "invalid_characters", "A\ufffdB"),
        ({"phoneNumber": NY, "lastName": "a\x0bb"}, "lastName", "invalid_characters", "a\ufffdb"),
        ({"phoneNumber": NY, "uniqueId": "\x7f1"}, "uniqueId", "invalid_characters", "\ufffd1"),
        (
            {"phoneNumber": NY, "notes": "line 1\x1b[31mline 2"},
            "notes",
            "invalid_characters",
            "line 1\ufffd[31mline 2",
        ),
        ({"phoneNumber": NY, "notes": "\ud800"}, "notes", "invalid_characters", "\ufffd"),
        # invalid_phone_number
        ({"phoneNumber": "12"}, "phoneNumber", "invalid_phone_number", "12"),
        ({"phoneNumber": "call me"}, "phoneNumber", "invalid_phone_number", "call me"),
        ({"phoneNumber": "555 555 5555"}, "phoneNumber", "invalid_phone_number", "555 555 5555"),
        ({"phoneNumber": 42}, "phoneNumber", "invalid_phone_number", "42"),
        # invalid_time_zone
        (
            {"phoneNumber": NY, "timeZone": "Mars/Olympus"},
            "timeZone",
            "invalid_time_zone",
            "Mars/Olympus",
        ),
        (
            {"phoneNumber": NY, "timeZone": "america/new_york"},
            "timeZone",
            "invalid_time_zone",
            "america/new_york",
        ),
        (
            {"phoneNumber": NY, "timeZone": "Etc/Unknown"},
            "timeZone",
            "invalid_time_zone",
            "Etc/Unknown",
        ),
        (
            {"phoneNumber": NY, "timeZone": "localtime"},
            "timeZone",
            "invalid_time_zone",
            "localtime",
        ),
        # too_many_fields: the first key beyond the limit is named
        (
            {"phoneNumber": NY, **CUSTOM_LIMIT, "extra": "v", "more": 1},
            "extra",
            "too_many_fields",
            "",
        ),
        # invalid_field_name
        ({"phoneNumber": NY, "": "v"}, "", "invalid_field_name", ""),
        ({"phoneNumber": NY, "   ": "v"}, "   ", "invalid_field_name", "   "),
        ({"phoneNumber": NY, "n" * 101: "v"}, "n" * 100, "invalid_field_name", "n" * 101),
        ({"phoneNumber": NY, "a\tb": "v"}, "a\tb", "invalid_field_name", "a\tb"),
        ({"phoneNumber": NY, "a\x00b": "v"}, "a\ufffdb", "invalid_field_name", "a\ufffdb"),
        ({"phoneNumber": NY, "\ud800": "v"}, "\ufffd", "invalid_field_name", "\ufffd"),
    ],
)
def test_row_errors(item: dict[str, Any], field: str, code: str, value: str) -> None:
    result = error(item, row=12)

    assert (result.row, result.field, result.code, result.value) == (12, field, code, value)
    assert result.message.endswith(".")
    assert result.message[0].isupper() or result.message.startswith(result.field)


def test_messages_name_the_field_and_the_rule() -> None:
    assert error({}).message == "phoneNumber is required."
    assert error({"phoneNumber": NY, "tags": []}).message == (
        "tags must be a string, a number, a boolean or null, not an array."
    )
    assert error({"phoneNumber": NY, "firstName": TOO_LONG}).message == (
        "firstName is longer than 300 characters."
    )
    assert error({"phoneNumber": "555 555 5555"}).message == (
        "The phone number is not a valid number for country code +1."
    )
    assert "IANA" in error({"phoneNumber": NY, "timeZone": "Mars/Olympus"}).message


@pytest.mark.parametrize(
    ("item", "field"),
    [
        # phoneNumber first, whatever the key order
        ({"timeZone": "Nowhere", "phoneNumber": "12"}, "phoneNumber"),
        ({"firstName": [], "phoneNumber": None}, "phoneNumber"),
        # then timeZone
        ({"phoneNumber": NY, "firstName": [], "timeZone": "Nowhere"}, "timeZone"),
        # then the other known fields, in KNOWN_FIELDS order
        ({"phoneNumber": NY, "lastName": [], "firstName": []}, "firstName"),
        ({"phoneNumber": NY, "contactPriority": [], "uniqueId": [], "lastName": []}, "lastName"),
        ({"phoneNumber": NY, "contactPriority": [], "uniqueId": []}, "uniqueId"),
        # then custom fields, in key order, after every known field
        ({"bad": [], "phoneNumber": NY, "contactPriority": []}, "contactPriority"),
        ({"phoneNumber": NY, "b": [], "a": TOO_LONG}, "b"),
        ({"phoneNumber": NY, "a": "ok", "": "v", "b": []}, ""),
    ],
)
def test_the_first_problem_wins(item: dict[str, Any], field: str) -> None:
    assert error(item).field == field


def test_values_in_row_errors_are_short_and_storable() -> None:
    result = error({"phoneNumber": NY, "notes": "\x00" + "y" * 1000})
    assert result.value == "\ufffd" + "y" * 299

    result = error({"phoneNumber": NY, "tags": ["z" * 1000]})
    assert result.value == '["' + "z" * 298


def test_rows_keep_their_numbers_and_order() -> None:
    rows = [(2, {"phoneNumber": NY}), (3, {"phoneNumber": "nope"}), (5, {"phoneNumber": NY})]

    results = normalise_rows(rows, "US")

    assert [type(result) for result in results] == [Contact, RowError, Contact]
    assert [result.row for result in results] == [2, 3, 5]
    assert normalise_rows([], "US") == []


def test_results_survive_pickling() -> None:
    # The import job may normalise in worker processes.
    results = normalise_rows([(1, {"phoneNumber": NY, "x": 1}), (2, {})], "US")
    assert pickle.loads(pickle.dumps(results)) == results


# ---------------------------------------------------------------- properties

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["+12125551234", "(212) 555-1234", "America/Chicago", "x" * 301, "\x00"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(KNOWN_FIELDS) | st.text(max_size=8) | st.just("k" * 101)
ITEMS = st.dictionaries(KEYS, JSON_VALUES, max_size=10)
PHONES = st.sampled_from(
    ["+12125551234", "(415) 555-0123", "020 7946 0000", "+18005551234", "+4930123456", 12125551234]
)


def check(result: Contact | RowError, row: int, item: dict[str, Any]) -> None:
    assert result.row == row
    event("contact" if isinstance(result, Contact) else result.code)
    if isinstance(result, RowError):
        assert len(result.value) <= MAX_VALUE_LENGTH
        assert len(result.field) <= MAX_FIELD_NAME_LENGTH
        for text in (result.field, result.value, result.message):
            assert not UNSTORABLE.search(text)
        return
    assert E164.fullmatch(result.phone)
    assert result.time_zone is None or is_time_zone(result.time_zone)
    if not isinstance(item.get("timeZone"), str) or not item["timeZone"].strip():
        assert result.time_zone == time_zone_of(result.phone)
    for known in (result.first_name, result.last_name, result.unique_id, result.contact_priority):
        assert known is None or (known == known.strip() and 0 < len(known) <= MAX_VALUE_LENGTH)
    assert list(result.fields) == [key for key in item if key not in KNOWN_FIELDS]
    assert all(len(value) <= MAX_VALUE_LENGTH for value in result.fields.values())
    assert len(result.fields) <= MAX_CUSTOM_FIELDS


@settings(deadline=None)
@given(item=ITEMS, row=st.integers(1, 10**6))
def test_arbitrary_items_never_raise(item: dict[str, Any], row: int) -> None:
    check(normalise_item(row, item, "US"), row, item)


@settings(deadline=None)
@given(
    item=ITEMS | st.dictionaries(KEYS, JSON_SCALARS, max_size=10),
    phone=PHONES,
    region=st.sampled_from(["US", "GB", "DE", "IN", "ZZ"]),
)
def test_arbitrary_items_with_a_phone_number_never_raise(
    item: dict[str, Any], phone: object, region: str
) -> None:
    item = {**item, "phoneNumber": phone}
    check(normalise_item(1, item, region), 1, item)


def test_line_breaks_and_tabs_are_kept_in_values() -> None:
    """A quoted CSV cell may hold a multi-line address."""
    item = {"phoneNumber": NY, "lastName": "a\tb", "address": "1 Main St\r\nApt 2\nNY"}
    result = normalise_item(1, item, "US")
    assert isinstance(result, Contact)
    assert result.last_name == "a\tb"
    assert result.fields == {"address": "1 Main St\r\nApt 2\nNY"}
