"""Phone numbers (CONTRACT §4.6): E.164 normalisation, the time zone a number implies, zone names.

libphonenumber is the reference: besides examples, properties check that the E.164 shortcut and
the single classification `phones` does agree with the library's own parse, is_valid_number and
time_zones_for_number on numbers of every region and type.
"""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.timezone import time_zones_for_number

from contactlists.contacts.phones import (
    PhoneError,
    is_time_zone,
    read_number,
    time_zone_of,
    to_e164,
)

E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _examples() -> list[str]:
    """An example number of each region and type, in E.164."""
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in range(PhoneNumberType.FIXED_LINE, PhoneNumberType.VOICEMAIL + 1):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(found)


EXAMPLES = _examples()


@st.composite
def near_examples(draw: st.DrawFn) -> str:
    """An example number with a few digits changed, added or removed: valid and invalid ones,
    with and without national prefixes and leading zeros, for every country code."""
    digits = list(draw(st.sampled_from(EXAMPLES))[1:])
    for _ in range(draw(st.integers(0, 3))):
        digits[draw(st.integers(0, len(digits) - 1))] = draw(st.sampled_from("0123456789"))
    change = draw(st.sampled_from(["none", "insert", "delete"]))
    if change == "insert" and len(digits) < 15:
        digits.insert(draw(st.integers(1, len(digits))), draw(st.sampled_from("0123456789")))
    elif change == "delete" and len(digits) > 7:
        del digits[draw(st.integers(1, len(digits) - 1))]
    return "+" + "".join(digits)


def reference(text: str, region: str | None) -> tuple[str, str | None] | None:
    """What libphonenumber's public API says: (E.164, single zone) or None when not valid."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not E164.fullmatch(e164):
        return None
    zones = time_zones_for_number(number)
    return e164, zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


def ours(text: str, region: str) -> tuple[str, str | None] | None:
    """Our reading when it is verified (libphonenumber's validity is the reference), else None."""
    try:
        reading = read_number(text, region)
    except PhoneError:
        return None
    return (reading.e164, reading.time_zone) if reading.verified else None


SEPARATORS = re.compile(r"[\s.\-/]")


# ---------------------------------------------------------------- to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # Already E.164, whatever the region.
        ("+12125551234", "US", "+12125551234"),
        ("+442079460000", "US", "+442079460000"),
        ("+919876543210", "GB", "+919876543210"),
        # National formats with their region.
        ("(212) 555-1234", "US", "+12125551234"),
        ("212.555.1234", "US", "+12125551234"),
        ("1 212 555 1234", "US", "+12125551234"),
        ("020 7946 0000", "GB", "+442079460000"),
        ("030 123456", "DE", "+4930123456"),
        ("030/1234-5678", "DE", "+493012345678"),
        ("098765 43210", "IN", "+919876543210"),
        ("9876543210", "IN", "+919876543210"),
        # International with "+", spaces, dashes and parentheses.
        ("+1 (212) 555-1234", "GB", "+12125551234"),
        ("+44 (0)20 7946 0000", "US", "+442079460000"),
        ("+49-30-123456", "US", "+4930123456"),
        ("  +91 98765 43210\t", "US", "+919876543210"),
        # International prefixes, as the region dials them.
        ("0044 20 7946 0000", "GB", "+442079460000"),
        ("011 44 20 7946 0000", "US", "+442079460000"),
        # An extension is dropped.
        ("212-555-1234 ext. 56", "US", "+12125551234"),
        ("+44 20 7946 0000 x12", "GB", "+442079460000"),
        # E.164-shaped but not canonical: the parser strips Germany's national prefix.
        ("+49030123456", "US", "+4930123456"),
        # Italian numbers keep their leading zero.
        ("+390612345678", "US", "+390612345678"),
        ("06 1234 5678", "IT", "+390612345678"),
        # Digits of other scripts come out as ASCII digits.
        ("+１２１２５５５１２３４", "US", "+12125551234"),
        ("٢١٢٥٥٥١٢٣٤", "US", "+12125551234"),
        # Vanity numbers, as libphonenumber reads them.
        ("1-800-FLOWERS", "US", "+18003569377"),
    ],
)
def test_to_e164_normalises_numbers(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "US"),
        ("   ", "US"),
        ("12", "US"),
        ("+1 212", "US"),
        ("hello", "US"),
        ("abc-def-ghij", "US"),
        ("+", "US"),
        ("555 1234", "US"),  # a local number without its area code
        ("+1 212 555 12345", "US"),  # one digit too many
        ("+999 1234567", "US"),  # no such country code
        ("+1 000", "US"),  # a country code, but too short for its numbers
        ("+800 1234 567", "US"),  # a non-geographic code: its numbers all follow their pattern
        ("555 555 5555", "US"),  # a possible US number, not valid, and no "+" to read it otherwise
        ("(212) 555-12345", "US"),  # too long for the region, but parentheses mark it national
        ("4930123456", "US"),  # +49 30 123456 without "+", but ten digits are a US length
        ("+989601", "US"),  # valid to libphonenumber, but shorter than E.164's 7 digits
        ("2125551234", "ZZ"),  # national, and no region to read it in
        ("2125551234", "XX"),
        ("1" * 251, "US"),
        ("+1" + "2" * 300, "US"),
    ],
)
def test_to_e164_rejects_what_is_not_a_valid_number(raw: str, region: str) -> None:
    with pytest.raises(PhoneError) as caught:
        to_e164(raw, region)

    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "invalid_phone_number"
    assert caught.value.message == str(caught.value)
    assert caught.value.message.endswith(".")
    assert caught.value.message[0].isupper()


def test_a_national_number_depends_on_the_region() -> None:
    assert to_e164("2079460000", "US") == "+12079460000"
    assert to_e164("2079460000", "GB") == "+442079460000"
    assert to_e164("2079460000", "IN") == "+912079460000"
    assert to_e164("0612345678", "DE") == "+49612345678"
    assert to_e164("0612345678", "FR") == "+33612345678"


def test_an_international_number_does_not_depend_on_the_region() -> None:
    assert {to_e164("+44 20 7946 0000", region) for region in ("US", "GB", "DE", "IN")} == {
        "+442079460000"
    }


def test_errors_name_the_problem() -> None:
    def message(raw: str, region: str = "US") -> str:
        with pytest.raises(PhoneError) as caught:
            to_e164(raw, region)
        return caught.value.message

    assert message("hello") == "The value is not a phone number."
    assert message("+989601") == "The phone number is too short."
    assert message("1" * 251) == "The phone number is too long."
    assert message("+999 1234567") == "The phone number does not start with a known country code."
    assert "'ZZ'" in message("2125551234", "ZZ")
    assert message("555 555 5555") == "The phone number is not a valid number for country code +1."


def test_a_repeated_failure_raises_a_fresh_error() -> None:
    # Failures are memoised as messages: re-raising one exception object would chain tracebacks.
    errors = []
    for _ in range(3):
        with pytest.raises(PhoneError) as caught:
            to_e164("555 555 5555", "US")
        errors.append(caught.value)

    assert len({id(error) for error in errors}) == 3
    assert {error.message for error in errors} == {errors[0].message}


def test_read_number_gives_the_number_and_its_zone() -> None:
    assert read_number("(212) 555-1234", "US") == ("+12125551234", "America/New_York", True)
    assert read_number("800 555 1234", "US") == ("+18005551234", None, True)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # The country code written without "+", where the digits are no national number.
        ("919876543210", "US", ("+919876543210", "Asia/Calcutta", True)),
        ("91 98765 43210", "GB", ("+919876543210", "Asia/Calcutta", True)),
        ("442079460000", "US", ("+442079460000", "Europe/London", True)),
        # Kore.ai's own sample: India's code, a length India's numbers have, no known pattern.
        ("9122333445566", "US", ("+9122333445566", "Asia/Calcutta", False)),
        ("+9122333445566", "GB", ("+9122333445566", "Asia/Calcutta", False)),
        # Plausible with "+": stored unverified; a country of several zones gives none.
        ("+1 555 555 5555", "US", ("+15555555555", None, False)),
        ("+44 20 7946 000", "US", ("+44207946000", None, False)),  # GB, Jersey, Guernsey…
    ],
)
def test_numbers_read_as_international_and_unverified(
    raw: str, region: str, expected: tuple[str, str | None, bool]
) -> None:
    assert read_number(raw, region) == expected


def test_a_valid_national_reading_wins_over_the_international_one() -> None:
    # Ten digits: a valid US number, though "+44 20 7946 0000" is valid too without the "44".
    assert read_number("2079460000", "US").e164 == "+12079460000"
    # A possible but invalid national number is refused rather than read as another country's.
    with pytest.raises(PhoneError):
        read_number("555 555 5555", "US")


# ---------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("e164", "zone"),
    [
        ("+12125551234", "America/New_York"),  # New York, 212
        ("+14155550123", "America/Los_Angeles"),  # San Francisco, 415
        ("+13125550123", "America/Chicago"),
        ("+442079460000", "Europe/London"),
        ("+4930123456", "Europe/Berlin"),
        ("+33612345678", "Europe/Paris"),  # one zone for the whole country: mobiles too
    ],
)
def test_time_zone_of_a_number_with_one_zone(e164: str, zone: str) -> None:
    assert time_zone_of(e164) == zone
    assert is_time_zone(zone)


@pytest.mark.parametrize(
    "e164",
    [
        "+18005551234",  # US toll-free: every zone of the North American plan
        "+79123456789",  # a Russian mobile: the whole country's zones
        "+61412345678",  # an Australian mobile: the whole country's zones
        "+15551234567",  # not a valid number
        "+999123456789",  # no such country code
        "2125551234",  # not E.164
        "+1 212 555 1234",  # not E.164 either
        "",
    ],
)
def test_time_zone_of_is_none_without_exactly_one_zone(e164: str) -> None:
    assert time_zone_of(e164) is None


@pytest.mark.parametrize(
    "e164",
    ["+80012345678", "+870301234567", "+881612345678"],  # global services: "+800", Inmarsat…
)
def test_time_zone_of_never_answers_the_unknown_zone(e164: str) -> None:
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert time_zones_for_number(phonenumbers.parse(e164)) == ("Etc/Unknown",)

    assert to_e164(e164, "US") == e164
    assert time_zone_of(e164) is None


@pytest.mark.parametrize(
    "name", ["America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Calcutta", "UTC"]
)
def test_is_time_zone_accepts_iana_names(name: str) -> None:
    assert is_time_zone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Olympus_Mons",
        "america/new_york",  # the exact spelling is the name
        "America/New York",
        " America/New_York",
        "Etc/Unknown",
        "localtime",  # the host's own setting, not an IANA name
        "Factory",
        "+05:00",
        "EST5EDT/../../etc/passwd",
        "America/New_York\x00",
    ],
)
def test_is_time_zone_rejects_other_names(name: str) -> None:
    assert not is_time_zone(name)


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(text=near_examples())
def test_e164_input_reads_as_libphonenumber_reads_it(text: str) -> None:
    assert ours(text, "US") == reference(text, None)


@settings(deadline=None)
@given(
    e164=st.sampled_from(EXAMPLES),
    style=st.sampled_from(
        [PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.RFC3966]
    ),
    other_region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
)
def test_formatted_input_reads_as_libphonenumber_reads_it(
    e164: str, style: int, other_region: str
) -> None:
    number = phonenumbers.parse(e164)
    text = phonenumbers.format_number(number, style)
    for region in (phonenumbers.region_code_for_number(number) or "US", other_region):
        expected = reference(text, region)
        if expected is not None:
            assert ours(text, region) == expected
        else:
            # Not a number of the region as written: read, if at all, as an international
            # number written without its "+".
            digits = SEPARATORS.sub("", text)
            without_plus = reference("+" + digits, None) if digits.isdigit() else None
            assert ours(text, region) in (None, without_plus)


@settings(deadline=None)
@given(text=near_examples() | st.sampled_from(EXAMPLES))
def test_to_e164_is_idempotent(text: str) -> None:
    try:
        once = to_e164(text, "US")
    except PhoneError:
        return
    assert E164.fullmatch(once)
    assert to_e164(once, "US") == once
    assert to_e164(once, "GB") == once


@settings(deadline=None)
@given(text=st.text(max_size=40) | st.from_regex(r"\A\+?[0-9 ()+-]{0,20}\Z"))
def test_to_e164_gives_e164_or_a_phone_error(text: str) -> None:
    try:
        result = to_e164(text, "US")
    except PhoneError as error:
        code = error.code
    else:
        code = "ok"
        assert E164.fullmatch(result)
    assert code in {"ok", "invalid_phone_number"}


@settings(max_examples=200, deadline=None)
@given(text=near_examples())
@example(text="+88812345678901")  # valid under a non-geographic code: stored, verified
def test_an_unverified_reading_is_plausible_and_never_valid(text: str) -> None:
    try:
        reading = read_number(text, "US")
    except PhoneError:
        return
    number = phonenumbers.parse(reading.e164)
    assert E164.fullmatch(reading.e164)
    assert reading.verified == phonenumbers.is_valid_number(number)
    assert phonenumbers.is_possible_number(number)
    if not reading.verified:
        # Unverified only under a country's code: a non-geographic (+800-style) code's numbers
        # follow its patterns, so only its valid numbers (+888 1234 5678 901) are stored.
        country = phonenumbers.region_code_for_country_code(number.country_code)
        assert country not in ("ZZ", "001")
    assert reading.time_zone is None or is_time_zone(reading.time_zone)


@settings(deadline=None)
@given(text=near_examples())
def test_a_derived_zone_is_a_valid_zone_and_matches_time_zone_of(text: str) -> None:
    reading = ours(text, "US")
    if reading is None:
        return
    e164, zone = reading
    assert zone is None or is_time_zone(zone)
    assert time_zone_of(e164) == zone
