"""The contact filters as query parameters, shared by getAllContacts and export.

Only the text is taken here (each parameter bounded in length); ``contacts.search`` checks it
once the list, whose region reads the phone number, is known. ``fields.<name>`` parameters
have names of the client's choosing, so they are read from the query string itself; they are
counted and bounded there too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from contactlists.contacts.search import (
    FIELD_PREFIX,
    MAX_FIELD_FILTERS,
    MAX_SEARCH_LENGTH,
    MAX_TIME_LENGTH,
    RawFilters,
)
from contactlists.errors import ValidationFailed

# Longer than anything valid, so that a long value gets the filter's own message.
_SLACK = 64


def contact_filters(
    request: Request,
    phone_number: Annotated[
        str | None,
        Query(
            alias="phoneNumber",
            max_length=250,
            description="Only this number, written in any format (read with the list's region).",
        ),
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=MAX_SEARCH_LENGTH + _SLACK,
            description="Case-insensitive prefix of firstName, lastName or uniqueId.",
        ),
    ] = None,
    time_zone: Annotated[
        str | None,
        Query(alias="timeZone", max_length=64, description="Only this IANA time zone."),
    ] = None,
    created_after: Annotated[
        str | None,
        Query(
            alias="createdAfter",
            max_length=MAX_TIME_LENGTH + _SLACK,
            description="Created at or after this ISO-8601 time (UTC without an offset).",
        ),
    ] = None,
    created_before: Annotated[
        str | None,
        Query(
            alias="createdBefore",
            max_length=MAX_TIME_LENGTH + _SLACK,
            description="Created before this ISO-8601 time (UTC without an offset).",
        ),
    ] = None,
) -> RawFilters:
    """The filters of the request; `fields.<name>=<value>` (at most 10) are read besides."""
    fields = [
        (key.removeprefix(FIELD_PREFIX), value)
        for key, value in request.query_params.multi_items()
        if key.startswith(FIELD_PREFIX)
    ]
    if len(fields) > MAX_FIELD_FILTERS:
        # Refused before anything is kept of them, however many the query string holds.
        raise ValidationFailed.field(
            "fields",
            f"{len(fields)} fields.<name> filters were given; at most {MAX_FIELD_FILTERS}"
            " are allowed.",
        )
    return RawFilters(
        phone_number=phone_number,
        search=search,
        time_zone=time_zone,
        created_after=created_after,
        created_before=created_before,
        fields=tuple(fields),
    )


ContactFilters = Annotated[RawFilters, Depends(contact_filters)]
