"""One import item in, one stored contact or one row error out (CONTRACT §4.6, §4.8).

Pure and synchronous — no database, no web framework — so the import job can run it in worker
processes over large batches, and addContacts, uploads and single-contact writes share one set of
rules. An item is rejected for its first problem only, checked in a fixed order (phoneNumber,
timeZone, the other known fields, then custom fields in key order), so the same input always
gives the same row error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contactlists.contacts.phones import PhoneError, Reading, is_time_zone, read_number

__all__ = [
    "KNOWN_FIELDS",
    "MAX_CUSTOM_FIELDS",
    "MAX_FIELD_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
    "Contact",
    "RowError",
    "normalise_item",
    "normalise_rows",
]

KNOWN_FIELDS = ("phoneNumber", "firstName", "lastName", "timeZone", "uniqueId", "contactPriority")
MAX_VALUE_LENGTH = 300  # per value: Kore.ai's UI limit per column
MAX_FIELD_NAME_LENGTH = 100
MAX_CUSTOM_FIELDS = 150

_KNOWN = frozenset(KNOWN_FIELDS)

# Control characters and lone surrogates, which JSON escapes can carry ("\u0000", "\ud800"):
# PostgreSQL refuses NUL in text and neither database stores a surrogate. Tab and line breaks
# stay allowed in values: a quoted CSV cell may hold a multi-line address.
_BAD_IN_VALUE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A row error's texts are shown one per line (CSV of errors, logs): no line breaks either.
_BAD_IN_ERROR = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(slots=True)
class Contact:
    """A normalised item, ready to store."""

    row: int  # 1-based position given by the caller
    phone: str  # E.164
    phone_verified: bool  # False: plausible, not known to libphonenumber (see phones)
    first_name: str | None
    last_name: str | None
    time_zone: str | None
    unique_id: str | None
    contact_priority: str | None
    fields: dict[str, str]  # custom fields, in the item's key order


@dataclass(slots=True)
class RowError:
    """Why an item was rejected, as a job reports it. Every text is safe to store and show."""

    row: int
    field: str  # "phoneNumber", "timeZone", … or the custom field's name
    code: str  # required, invalid_type, too_long, invalid_characters, invalid_phone_number,
    #            invalid_time_zone, too_many_fields, invalid_field_name
    value: str  # the offending value as text (at most 300 characters), "" when missing
    message: str


class _Rejected(Exception):
    """Carries an item's first problem out of the field checks (only rejected items raise it)."""

    def __init__(self, field: str, code: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.value = value
        self.message = message


def normalise_rows(
    rows: Iterable[tuple[int, Mapping[str, object]]], region: str
) -> list[Contact | RowError]:
    """`normalise_item` over (row, item) pairs, in order."""
    return [normalise_item(row, item, region) for row, item in rows]


def normalise_item(row: int, item: Mapping[str, object], region: str) -> Contact | RowError:
    """The item as a Contact, or the RowError of its first problem; never raises.

    `region` (ISO 3166) reads phone numbers written without "+". A missing timeZone is derived
    from the number when the number has exactly one zone.
    """
    try:
        phone = _phone(item.get("phoneNumber"), region)
        time_zone = _time_zone(item.get("timeZone"))
        first_name = _text("firstName", item.get("firstName"))
        last_name = _text("lastName", item.get("lastName"))
        unique_id = _text("uniqueId", item.get("uniqueId"))
        contact_priority = _text("contactPriority", item.get("contactPriority"))
        fields = _custom_fields(item)
    except _Rejected as problem:
        return RowError(
            row=row,
            field=_clean(problem.field[:MAX_FIELD_NAME_LENGTH]),
            code=problem.code,
            value=_shown(problem.value),
            message=problem.message,
        )
    if time_zone is None:
        time_zone = phone.time_zone  # time_zone_of(phone), read along with the number
    return Contact(
        row=row,
        phone=phone.e164,
        phone_verified=phone.verified,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
        unique_id=unique_id,
        contact_priority=contact_priority,
        fields=fields,
    )


# ---------------------------------------------------------------- fields


def _phone(value: object, region: str) -> Reading:
    """The number in E.164, the one time zone it implies (if any), and whether it is verified."""
    field = "phoneNumber"
    if value is None:
        raise _Rejected(field, "required", "", "phoneNumber is required.")
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int) and not isinstance(value, bool):
        text = _int_text(field, value)
    else:
        raise _invalid_type(field, value, "a string or an integer")
    if not text:
        raise _Rejected(field, "required", value, "phoneNumber is required.")
    _check_text(field, text, value)
    try:
        return read_number(text, region)
    except PhoneError as error:
        raise _Rejected(field, error.code, value, error.message) from None


def _time_zone(value: object) -> str | None:
    """The given zone, or None when absent (the caller derives one from the number)."""
    field = "timeZone"
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid_type(field, value, "a string")
    text = value.strip()
    if not text:
        return None
    _check_text(field, text, value)
    if not is_time_zone(text):
        raise _Rejected(
            field,
            "invalid_time_zone",
            value,
            "timeZone must be an IANA time-zone name such as America/New_York.",
        )
    return text


def _text(field: str, value: object) -> str | None:
    """An optional known field: text without surrounding whitespace, None when absent or blank."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        raise _invalid_type(field, value, "a string or a number")
    elif isinstance(value, int):
        text = _int_text(field, value)
    elif isinstance(value, float):
        text = _float_text(field, value, "a string or a number")
    else:
        raise _invalid_type(field, value, "a string or a number")
    if not text:
        return None
    _check_text(field, text, value)
    return text


def _custom_fields(item: Mapping[str, object]) -> dict[str, str]:
    """Every key beyond the known ones, in key order, with its value as text (kept verbatim)."""
    fields: dict[str, str] = {}
    for name, value in item.items():
        if name in _KNOWN:
            continue
        if len(fields) == MAX_CUSTOM_FIELDS:
            raise _Rejected(
                name,
                "too_many_fields",
                "",
                f"An item may have at most {MAX_CUSTOM_FIELDS} custom fields.",
            )
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > MAX_FIELD_NAME_LENGTH
            or _BAD_IN_NAME.search(name) is not None
        ):
            raise _Rejected(
                str(name),
                "invalid_field_name",
                name,
                f"Custom field names must be 1 to {MAX_FIELD_NAME_LENGTH} characters"
                " without control characters.",
            )
        fields[name] = _custom_value(name, value)
    return fields


def _custom_value(field: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = _int_text(field, value)
    elif isinstance(value, float):
        text = _float_text(field, value, "a string, a number, a boolean or null")
    else:
        raise _invalid_type(field, value, "a string, a number, a boolean or null")
    _check_text(field, text, value)
    return text


# ---------------------------------------------------------------- checks


def _check_text(field: str, text: str, value: object) -> None:
    if len(text) > MAX_VALUE_LENGTH:
        raise _Rejected(
            field, "too_long", value, f"{field} is longer than {MAX_VALUE_LENGTH} characters."
        )
    if _BAD_IN_VALUE.search(text) is not None:
        raise _Rejected(
            field,
            "invalid_characters",
            value,
            f"{field} contains control characters (such as NUL), which cannot be stored.",
        )


def _int_text(field: str, value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _Rejected(
            field, "too_long", "", f"{field} is longer than {MAX_VALUE_LENGTH} characters."
        ) from None


def _float_text(field: str, value: float, expected: str) -> str:
    # NaN and Infinity are not JSON, though Python's json module reads them.
    if not math.isfinite(value):
        raise _invalid_type(field, value, expected)
    return str(value)


def _invalid_type(field: str, value: object, expected: str) -> _Rejected:
    return _Rejected(
        field, "invalid_type", value, f"{field} must be {expected}, not {_json_type(value)}."
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- showing values


def _shown(value: object) -> str:
    """The value as text for a row error: JSON text for non-strings, at most 300 characters, and
    with the characters a database refuses replaced, since row errors are stored too."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        try:
            text = str(value)
        except ValueError:
            text = ""
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=_type_name)
        except (ValueError, TypeError, RecursionError):
            text = _type_name(value)
    return _clean(text[:MAX_VALUE_LENGTH])


def _clean(text: str) -> str:
    return _BAD_IN_ERROR.sub("\ufffd", text)


def _type_name(value: object) -> str:
    return type(value).__name__
