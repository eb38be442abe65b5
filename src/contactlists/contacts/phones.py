"""Phone numbers as contacts store them: E.164 text, and the time zone a number implies.

A number is read in this order:

1. as written: with "+" (or an international dialling prefix) as an international number, else
   as a national number of the list's region. A valid number is stored, verified;
2. written without "+" and not even the length of a national number of the region, as the
   digits of an international number without its "+" ("919876543210" is India's
   +91 98765 43210). A valid number is stored, verified;
3. an international reading (written with "+", or step 2's) that is not valid but plausible —
   a country code in use and a length that country's numbers can have — is stored *unverified*:
   libphonenumber's patterns do not know it, though it may be real (Kore.ai's own sample,
   "9122333445566", is one). Its time zone is its country's when the country has one zone.

Anything else is refused with the reason of the first reading. Unverified numbers are counted
apart by the import job and flagged on the contact.

Pure functions over phonenumbers (libphonenumber's rules) and zoneinfo, so the import job, the
single-contact routes and the SDK read a number the same way. Imports of a million rows are the
workload: parsing and validating are most of a row's cost, so both lookups are memoised, and input
that already looks like E.164 — what most API clients send — skips the general parser.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import (
    REGION_CODE_FOR_NON_GEO_ENTITY,
    UNKNOWN_REGION,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
)
from phonenumbers.timezone import (  # the private one: time_zones_for_number()'s other half
    UNKNOWN_TIMEZONE,
    _country_level_time_zones_for_number,
    time_zones_for_geographical_number,
)

__all__ = ["PhoneError", "Reading", "is_time_zone", "read_number", "time_zone_of", "to_e164"]

INVALID_PHONE_NUMBER = "invalid_phone_number"

# "+", a country code that cannot start with 0, and 7 to 15 digits in all (ITU-T E.164). ASCII
# digits only: \d would also match other scripts' digits, which int() accepts.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

# phonenumbers refuses longer input anyway; checking first keeps long strings out of the cache.
_MAX_INPUT_LENGTH = 250

_CACHE_SIZE = 65_536

# What people put between the digits of an international number written without its "+"
# ("91 98765-43210"): read as one only when nothing else is left. Not parentheses, which mark
# a national area code ("(201) 555-0123").
_SEPARATORS = re.compile(r"[\s.\-/]")

# Zone names zoneinfo may list that are not places: "localtime" is the host's own setting (a file
# of the system database, not an IANA name) and "Factory" is IANA's "time zone not set" marker.
_NOT_PLACES = frozenset({"localtime", "Factory"})

_PARSE_MESSAGES = {
    NumberParseException.NOT_A_NUMBER: "The value is not a phone number.",
    NumberParseException.TOO_SHORT_AFTER_IDD: "The phone number is too short.",
    NumberParseException.TOO_SHORT_NSN: "The phone number is too short.",
    NumberParseException.TOO_LONG: "The phone number is too long.",
}


class Reading(NamedTuple):
    """A number as it is stored: E.164, the one time zone it implies, and whether it is valid to
    libphonenumber (False: plausible only, see the module's docstring)."""

    e164: str
    time_zone: str | None
    verified: bool


class PhoneError(ValueError):
    """A value that is not a valid phone number: `code` for row errors, `message` for a person."""

    code: str
    message: str

    def __init__(self, message: str, code: str = INVALID_PHONE_NUMBER) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def to_e164(raw: str, region: str) -> str:
    """The number in E.164 ("+15551234567"); `region` (ISO 3166) reads numbers written without "+".

    A number with an extension is normalised without it, as E.164 has no extensions.
    """
    return read_number(raw, region)[0]


def read_number(raw: str, region: str) -> Reading:
    """`to_e164` and `time_zone_of` of the result at once, and whether the number is verified:
    the import job needs all three, and all need libphonenumber to classify the number, so one
    reading (and one cache hit) serves them."""
    text = raw.strip()
    if len(text) > _MAX_INPUT_LENGTH:
        raise PhoneError(_PARSE_MESSAGES[NumberParseException.TOO_LONG])
    reading = _read(text, region)
    if isinstance(reading, str):
        raise PhoneError(reading)
    return reading


def time_zone_of(e164: str) -> str | None:
    """The IANA zone of an E.164 number when libphonenumber gives it exactly one, else None.

    Numbers that span zones (toll-free, mobiles of large countries) and numbers without a known
    zone give None: guessing a zone would schedule calls at the wrong local hour. A zone the host's
    time-zone database lacks also gives None, so a derived zone always passes `is_time_zone`.
    """
    if _E164.fullmatch(e164) is None:
        return None
    reading = _read(e164, None)
    return None if isinstance(reading, str) else reading.time_zone


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time-zone name (exact spelling, as zoneinfo lists them)."""
    return name in _time_zones()


# ---------------------------------------------------------------- memoised work


@lru_cache(maxsize=_CACHE_SIZE)
def _read(text: str, region: str | None) -> Reading | str:
    """The reading of `text`, or the message saying why it is not a number to store.

    Failures are cached too, as their message rather than an exception: raising one cached
    exception object again and again would grow its traceback on every raise.
    """
    number = _from_e164(text) if _E164.fullmatch(text) is not None else None
    if number is None:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException as error:
            return _without_plus(text, region) or _parse_message(error, text, region)
    # number_type() is UNKNOWN exactly when is_valid_number() is False (both classify the number
    # against its region's patterns); asking once serves validity and the time zone.
    kind = phonenumbers.number_type(number)
    if kind != PhoneNumberType.UNKNOWN:
        return _verified(number, kind)
    if _is_international(text, number, region):
        return _plausible(number) or _not_valid(number)
    if not phonenumbers.is_possible_number(number):
        found = _without_plus(text, region)
        if found is not None:
            return found
    return _not_valid(number)


def _verified(number: PhoneNumber, kind: int) -> Reading | str:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if _E164.fullmatch(e164) is None:
        # Valid to libphonenumber, but shorter than E.164's 7 digits (e.g. Iran's 4-digit service
        # numbers, "+989601"): not a number to call, and stored numbers always fit the pattern.
        return _PARSE_MESSAGES[NumberParseException.TOO_SHORT_NSN]
    return Reading(e164, _zone(number, kind), verified=True)


def _plausible(number: PhoneNumber) -> Reading | None:
    """An invalid international number stored unverified, when it is plausible: a country code
    in use (not a non-geographic +800-style code, whose numbers all follow their patterns) and
    a length that country's numbers can have."""
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    if region in (UNKNOWN_REGION, REGION_CODE_FOR_NON_GEO_ENTITY):
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if _E164.fullmatch(e164) is None or _read_back(e164) != e164:
        # Stored numbers read back as themselves: a national number that E.164 cannot carry as
        # written (a leading zero libphonenumber keeps aside) is not stored unverified.
        return None
    zones = _country_level_time_zones_for_number(number)
    zone = zones[0] if len(zones) == 1 and is_time_zone(zones[0]) else None
    return Reading(e164, zone, verified=False)


def _read_back(e164: str) -> str | None:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), PhoneNumberFormat.E164)
    except NumberParseException:
        return None


def _without_plus(text: str, region: str | None) -> Reading | None:
    """Digits written without their "+" (step 2): the international reading, when it is valid or
    plausible; None when `text` is not digits and separators, or the reading is neither."""
    if region is None or text.startswith("+"):
        return None
    digits = _SEPARATORS.sub("", text)
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return None
    kind = phonenumbers.number_type(number)
    if kind != PhoneNumberType.UNKNOWN:
        reading = _verified(number, kind)
        return reading if isinstance(reading, Reading) else None
    return _plausible(number)


def _is_international(text: str, number: PhoneNumber, region: str | None) -> bool:
    """Whether `text` gave its own country code ("+", or an international dialling prefix such
    as "00" or "011" that led to another country's code) rather than taking the region's."""
    if text.startswith("+") or region is None:
        return True
    return number.country_code != phonenumbers.country_code_for_region(region)


def _not_valid(number: PhoneNumber) -> str:
    return f"The phone number is not a valid number for country code +{number.country_code}."


def _zone(number: PhoneNumber, kind: int) -> str | None:
    """time_zones_for_number() for a number already classified as `kind`, reduced to one zone."""
    if phonenumbers.is_number_type_geographical(kind, number.country_code or 0):
        zones = time_zones_for_geographical_number(number)
    else:
        zones = _country_level_time_zones_for_number(number)
    if len(zones) != 1 or zones[0] == UNKNOWN_TIMEZONE or not is_time_zone(zones[0]):
        return None
    return zones[0]


@cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the time-zone database on disk: once per process is enough.
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def _parse_message(error: NumberParseException, text: str, region: str | None) -> str:
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if text.startswith("+") or region is None:
            return "The phone number does not start with a known country code."
        return f"The phone number has no country code and {region!r} is not a region to read it in."
    return _PARSE_MESSAGES.get(error.error_type, "The value is not a phone number.")


# ---------------------------------------------------------------- the E.164 fast path


def _from_e164(text: str) -> PhoneNumber | None:
    """The number phonenumbers.parse would make of E.164-shaped `text`, built without the parser.

    None when the shortcut could differ from the parser, so the caller falls back to it: an unknown
    country code, a national number with a leading zero (Italian-style leading zeros), or one that
    starts with the national prefix the parser might strip (e.g. "+49 030…" reads as "+49 30…").
    Otherwise the parser keeps the digits as they are, and so does this.
    """
    digits = text[1:]
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[length:]
    if national.startswith("0"):
        return None
    prefix = _national_prefix(country_code)
    if prefix is None or prefix.match(national) is not None:
        return None
    return PhoneNumber(country_code=country_code, national_number=int(national))


_NEVER = re.compile(r"(?!)")


@cache
def _national_prefix(country_code: int) -> re.Pattern[str] | None:
    """The national-prefix pattern the parser tries on numbers of `country_code` (one that never
    matches when there is none), or None when the code has no metadata."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    if not metadata.national_prefix_for_parsing:
        return _NEVER
    return re.compile(metadata.national_prefix_for_parsing)
