"""Filters on a list's contacts (CONTRACT §4.9): reading them from a request, and search keys.

Pure — no database, no web framework — so the rules are tested alone and the SDK's callers get
the same answers from the service whatever the database. The filters are combined with AND:

- ``phoneNumber``: read as the intake reads a number, with the list's region, so any way of
  writing it finds the stored E.164 number;
- ``search``: a case-insensitive prefix of firstName, lastName or uniqueId. Case is folded by
  Python (``str.casefold``) on both sides, into search keys stored beside the fields, so the
  two databases fold alike and the text is never a LIKE pattern: ``%`` and ``_`` are literal;
- ``fields.<name>=<value>``: a custom field equal to the value;
- ``timeZone``: an IANA name, equal;
- ``createdAfter`` (inclusive) and ``createdBefore`` (exclusive): ISO-8601 times, a time
  without an offset read as UTC.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from contactlists.contacts.normalise import MAX_FIELD_NAME_LENGTH, MAX_VALUE_LENGTH
from contactlists.contacts.phones import PhoneError, is_time_zone, read_number
from contactlists.errors import Problem, ValidationFailed

__all__ = [
    "FIELD_PREFIX",
    "MAX_FIELD_FILTERS",
    "Filters",
    "RawFilters",
    "prefix_bounds",
    "read_filters",
    "search_key",
]

FIELD_PREFIX = "fields."
# Each custom-field filter is one more condition per row read: a handful is what a person asks.
MAX_FIELD_FILTERS = 10
MAX_SEARCH_LENGTH = MAX_VALUE_LENGTH
MAX_TIME_LENGTH = 64
# What no stored value holds (contacts.normalise refuses it in names and values): never a match,
# so refused as a mistake rather than answered with nothing.
_BAD_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_VALUE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The last code point; surrogates cannot be stored, so the successor of U+D7FF is U+E000.
_LAST = 0x10FFFF


def search_key(value: str | None) -> str | None:
    """The stored search key of a name or uniqueId: the value case-folded; None for None."""
    return None if value is None else value.casefold()


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """The range ``[low, high)`` of the keys that start with ``prefix``, in code-point order.

    ``high`` is the prefix with its last character raised by one (None when every character is
    the last code point: no upper bound). Every key starting with the prefix is in the range and
    no other is, so a prefix match is one index range on each database.
    """
    head = prefix.rstrip(chr(_LAST))
    if not head:
        return prefix, None
    following = ord(head[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return prefix, head[:-1] + chr(following)


@dataclass(frozen=True)
class RawFilters:
    """The filters as the request gave them, unchecked: text only."""

    phone_number: str | None = None
    search: str | None = None
    time_zone: str | None = None
    created_after: str | None = None
    created_before: str | None = None
    # Every `fields.<name>` parameter, in the request's order (a name may repeat: refused).
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Filters:
    """Checked filters, in the form the queries take them. Empty: every contact."""

    phone: str | None = None
    search: str | None = None  # a search key (case-folded)
    fields: tuple[tuple[str, str], ...] = ()  # sorted by name
    time_zone: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def __bool__(self) -> bool:
        return self != Filters()

    def fingerprint(self) -> str:
        """A short digest of the filters, carried in a cursor: a cursor is valid only with the
        filters it was issued for, since its position means nothing under others."""
        canonical = json.dumps(
            [
                self.phone,
                self.search,
                list(self.fields),
                self.time_zone,
                _instant(self.created_after),
                _instant(self.created_before),
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def read_filters(raw: RawFilters, region: str) -> Filters:
    """The checked filters, or a 400 naming every bad one. ``region`` reads the phone number."""
    problems: list[Problem] = []
    filters = Filters(
        phone=_phone(raw.phone_number, region, problems),
        search=_search(raw.search, problems),
        fields=_fields(raw.fields, problems),
        time_zone=_time_zone(raw.time_zone, problems),
        created_after=_time("createdAfter", raw.created_after, problems),
        created_before=_time("createdBefore", raw.created_before, problems),
    )
    after, before = filters.created_after, filters.created_before
    if after is not None and before is not None and after >= before:
        problems.append(Problem("createdAfter must be earlier than createdBefore.", "createdAfter"))
    if problems:
        raise ValidationFailed.of(problems)
    return filters


def _given(value: str | None) -> str | None:
    """The value without surrounding spaces; None when absent or blank (no filter)."""
    if value is None:
        return None
    return value.strip() or None


def _phone(value: str | None, region: str, problems: list[Problem]) -> str | None:
    text = _given(value)
    if text is None:
        return None
    if _BAD_IN_VALUE.search(text):
        problems.append(Problem("phoneNumber contains control characters.", "phoneNumber"))
        return None
    try:
        return read_number(text, region).e164
    except PhoneError as error:
        problems.append(
            Problem(f"phoneNumber is not a phone number: {error.message}", "phoneNumber")
        )
        return None


def _search(value: str | None, problems: list[Problem]) -> str | None:
    # Leading spaces are kept from the stored values too (the intake strips them), so they are
    # stripped here; a space inside ("ann m") is part of the prefix.
    text = _given(value)
    if text is None:
        return None
    if len(text) > MAX_SEARCH_LENGTH:
        problems.append(Problem(f"search is longer than {MAX_SEARCH_LENGTH} characters.", "search"))
        return None
    if _BAD_IN_VALUE.search(text):
        problems.append(Problem("search contains control characters.", "search"))
        return None
    return search_key(text)


def _fields(
    given: Iterable[tuple[str, str]], problems: list[Problem]
) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    pairs = list(given)
    if len(pairs) > MAX_FIELD_FILTERS:
        problems.append(
            Problem(
                f"{len(pairs)} fields.<name> filters were given; at most {MAX_FIELD_FILTERS}"
                " are allowed.",
                "fields",
            )
        )
        return ()
    for name, value in pairs:
        field = FIELD_PREFIX + name[:MAX_FIELD_NAME_LENGTH]
        if not name.strip() or len(name) > MAX_FIELD_NAME_LENGTH or _BAD_IN_NAME.search(name):
            problems.append(
                Problem(
                    f"Custom field names must be 1 to {MAX_FIELD_NAME_LENGTH} characters"
                    " without control characters.",
                    _BAD_IN_NAME.sub("\ufffd", field),
                )
            )
        elif name in found:
            problems.append(Problem(f"{field} is given more than once.", field))
        elif len(value) > MAX_VALUE_LENGTH:
            problems.append(
                Problem(f"{field} is longer than {MAX_VALUE_LENGTH} characters.", field)
            )
        elif _BAD_IN_VALUE.search(value):
            problems.append(Problem(f"{field} contains control characters.", field))
        else:
            # Exact, as stored: custom values are kept verbatim by the intake.
            found[name] = value
    return tuple(sorted(found.items()))


def _time_zone(value: str | None, problems: list[Problem]) -> str | None:
    text = _given(value)
    if text is None:
        return None
    if not is_time_zone(text):
        problems.append(
            Problem("timeZone must be an IANA time-zone name such as America/New_York.", "timeZone")
        )
        return None
    return text


def _time(name: str, value: str | None, problems: list[Problem]) -> datetime | None:
    text = _given(value)
    if text is None:
        return None
    try:
        if len(text) > MAX_TIME_LENGTH:
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        problems.append(
            Problem(
                f"{name} must be an ISO-8601 time such as 2026-01-31T09:00:00Z"
                " (a time without an offset is UTC).",
                name,
            )
        )
        return None
