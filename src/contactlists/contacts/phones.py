"""Phone numbers as contacts store them: E.164 text, and the time zone a number implies (§4.6).

Pure functions over phonenumbers (libphonenumber's rules) and zoneinfo, so the import job, the
single-contact routes and the SDK read a number the same way. Imports of a million rows are the
workload: parsing and validating are most of a row's cost, so both lookups are memoised, and input
that already looks like E.164 — what most API clients send — skips the general parser.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import (
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

__all__ = ["PhoneError", "is_time_zone", "read_number", "time_zone_of", "to_e164"]

INVALID_PHONE_NUMBER = "invalid_phone_number"

# "+", a country code that cannot start with 0, and 7 to 15 digits in all (ITU-T E.164). ASCII
# digits only: \d would also match other scripts' digits, which int() accepts.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

# phonenumbers refuses longer input anyway; checking first keeps long strings out of the cache.
_MAX_INPUT_LENGTH = 250

_CACHE_SIZE = 65_536

# Zone names zoneinfo may list that are not places: "localtime" is the host's own setting (a file
# of the system database, not an IANA name) and "Factory" is IANA's "time zone not set" marker.
_NOT_PLACES = frozenset({"localtime", "Factory"})

_PARSE_MESSAGES = {
    NumberParseException.NOT_A_NUMBER: "The value is not a phone number.",
    NumberParseException.TOO_SHORT_AFTER_IDD: "The phone number is too short.",
    NumberParseException.TOO_SHORT_NSN: "The phone number is too short.",
    NumberParseException.TOO_LONG: "The phone number is too long.",
}


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


def read_number(raw: str, region: str) -> tuple[str, str | None]:
    """`to_e164` and `time_zone_of` of the result at once: the import job needs both, and both
    need libphonenumber to classify the number, so one reading (and one cache hit) serves both."""
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
    return None if isinstance(reading, str) else reading[1]


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time-zone name (exact spelling, as zoneinfo lists them)."""
    return name in _time_zones()


# ---------------------------------------------------------------- memoised work


@lru_cache(maxsize=_CACHE_SIZE)
def _read(text: str, region: str | None) -> tuple[str, str | None] | str:
    """(E.164, zone), or the message saying why `text` is not a valid number.

    Failures are cached too, as their message rather than an exception: raising one cached
    exception object again and again would grow its traceback on every raise.
    """
    number = _from_e164(text) if _E164.fullmatch(text) is not None else None
    if number is None:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException as error:
            return _parse_message(error, text, region)
    # number_type() is UNKNOWN exactly when is_valid_number() is False (both classify the number
    # against its region's patterns); asking once serves validity and the time zone.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return f"The phone number is not a valid number for country code +{number.country_code}."
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if _E164.fullmatch(e164) is None:
        # Valid to libphonenumber, but shorter than E.164's 7 digits (e.g. Iran's 4-digit service
        # numbers, "+989601"): not a number to call, and stored numbers always fit the pattern.
        return _PARSE_MESSAGES[NumberParseException.TOO_SHORT_NSN]
    return e164, _zone(number, kind)


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
