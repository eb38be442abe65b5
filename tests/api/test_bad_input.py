"""Bad input across every route family: each answers 4xx with the envelope, nothing changes.

One table of requests, each with the status it must get and, where the rule is about it, the
fields its 400 names, a fragment of its message, the methods its 405 allows or the whole answer.
Before each case a tenant has lists, contacts, a finished import job and a campaign over a list,
and a tenant of another account has lists of its own; after it the same reads show the same
data, no job was queued and no uploaded file was kept. The app runs with small limits (bodies of
128 KiB, uploads of 16 KiB, batches of 20), so the oversized cases stay cheap.

The rows are grouped by route family and kind of badness. What a row cannot say (a value read
back exactly, request ids, a body cut off while it streams, generated and random inputs) is in
test_input_rules.py; the Schemathesis fuzzer is test_fuzz.py.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from contactlists.app import create_app
from contactlists.config import Settings
from contactlists.models.jobs import Job
from tests.support.campaigns import CampaignPaths, create_campaign, voice_body
from tests.support.contacts import ADD_CONTACTS, add_contacts, all_contacts, create_list
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.jobs import cancel_leftover_jobs
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory
from tests.support.uploads import csv_bytes, files_under, multipart_body
from tests.support.workbooks import SHEET_PART, inline_row, replaced, sheet_xml, workbook_bytes

pytestmark = pytest.mark.anyio

BODY_LIMIT = 128 * 1024
UPLOAD_LIMIT = 16 * 1024
BATCH_LIMIT = 20
DEEP = 10_000

REASONS = {
    400: "validation_error",
    401: "invalid_credentials",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: None,  # the case names its own reason
    413: "payload_too_large",
    415: "unsupported_media_type",
}
CODES = {401: 4002, 403: 4003}

JSON_TYPE = "application/json"
PHONE = "+12125550100"
ITEM = b'{"phoneNumber": "+12125550100"'


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Chunked:
    """A body sent in chunks, without Content-Length."""

    content: bytes


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    # A template: {v1}, {v2} (family prefixes), {add} (addContacts), {list}, {contact}, {job},
    # {campaign}, {bot}, {account}.
    path: str
    status: int
    content: bytes | Chunked | None = None
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # The request's own credentials are left out (401 cases).
    anonymous: bool = False
    reason: str | None = None
    # Sent by the tenant of the other account, with its own bot in {v1} and {v2}.
    other: bool = False
    # A 400 names exactly these fields, one entry each (a field may repeat).
    fields: tuple[str, ...] | None = None
    # The first entry's message says this.
    says: str | None = None
    # A 405's Allow header lists at least these methods (and never the request's).
    allow: frozenset[str] = frozenset()
    # The whole answer.
    exact: dict[str, Any] | None = None


def js(value: Any) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int, inner: str = "1") -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


def nested_objects(depth: int) -> bytes:
    return ('{"a": ' * depth + "1" + "}" * depth).encode()


def padded(body: dict[str, Any], size: int = BODY_LIMIT + 1) -> bytes:
    """``body`` with a `pad` key making it ``size`` bytes long."""
    empty = js({**body, "pad": ""})
    return js({**body, "pad": "x" * (size - len(empty))})


def campaign(**overrides: Any) -> dict[str, Any]:
    """A valid voice campaign over the list "Kept", with ``overrides``."""
    return {**voice_body("Hostile campaign", ["Kept"]), **overrides}


def form(*parts: tuple[bytes, bytes]) -> tuple[bytes, str]:
    return multipart_body(list(parts))


def file_part(content: bytes, name: bytes = b"contacts.csv") -> tuple[bytes, bytes]:
    return b'form-data; name="file"; filename="' + name + b'"', content


def mapping_part(content: bytes) -> tuple[bytes, bytes]:
    return b'form-data; name="mapping"', content


def encoding_part(content: bytes) -> tuple[bytes, bytes]:
    return b'form-data; name="encoding"', content


GOOD_CSV = csv_bytes([["phoneNumber", "firstName"], [PHONE, "Ann"]])


def upload_case(
    case_id: str, status: int, *parts: tuple[bytes, bytes], family: str = "v1", **checks: Any
) -> Case:
    content, content_type = form(*parts)
    return Case(
        case_id,
        "POST",
        f"{{{family}}}/contactList/{{list}}/upload",
        status,
        content,
        content_type,
        **checks,
    )


def body_cases() -> list[Case]:
    """JSON bodies: every route that reads one, with hostile content."""
    create = "{v1}/contactList/createContactList"
    create2 = "{v2}/contactList/createContactList"
    update = "{v2}/contactList/{list}"
    add = "{add}"
    new_campaign = "{v1}?campaignType=voice"
    put_campaign = "{v2}/{campaign}?campaignType=voice"
    get_all_campaigns = "{v2}/getAllCampaignDetails"
    delete_many = "{v1}/contactList/{list}/contacts/delete"
    put_contact = "{v2}/contactList/{list}/contacts/{contact}"
    items = [{"phoneNumber": PHONE}]
    return [
        # ---- over the body limit, declared or streamed without a length
        Case("create-oversized", "POST", create, 413, padded({"name": "Big"})),
        Case("create-oversized-chunked", "POST", create2, 413, Chunked(padded({"name": "Big"}))),
        Case("update-oversized", "PUT", update, 413, padded({"name": "Big"})),
        Case(
            "add-oversized",
            "POST",
            add,
            413,
            padded({"contact_list_name": "Kept", "data": items}),
        ),
        Case(
            "add-oversized-chunked",
            "POST",
            add,
            413,
            Chunked(padded({"contact_list_name": "Kept", "data": items}, 4 * BODY_LIMIT)),
        ),
        Case("campaign-create-oversized", "POST", new_campaign, 413, padded(campaign())),
        Case("campaign-update-oversized", "PUT", put_campaign, 413, padded(campaign())),
        Case(
            "campaigns-get-all-oversized",
            "POST",
            get_all_campaigns,
            413,
            Chunked(padded({"type": "voice"})),
        ),
        Case(
            "delete-contacts-oversized",
            "POST",
            delete_many,
            413,
            js({"ids": [f"cc-{index:036d}" for index in range(10_001)]}),
        ),
        Case("contact-update-oversized", "PUT", put_contact, 413, padded({"firstName": "Big"})),
        # ---- wrong types
        Case("create-name-number", "POST", create, 400, js({"name": 5})),
        Case(
            "create-allow-duplicates-text",
            "POST",
            create2,
            400,
            js({"name": "n", "allowDuplicates": "yes"}),
        ),
        Case(
            "create-description-object", "POST", create, 400, js({"name": "n", "description": {}})
        ),
        Case("update-name-array", "PUT", update, 400, js({"name": []})),
        Case("add-list-name-number", "POST", add, 400, js({"contact_list_name": 5, "data": items})),
        Case("add-data-string", "POST", add, 400, js({"contact_list_name": "Kept", "data": "x"})),
        Case(
            "add-data-object", "POST", add, 400, js({"contact_list_name": "Kept", "data": items[0]})
        ),
        Case(
            "add-items-not-objects",
            "POST",
            add,
            400,
            js({"contact_list_name": "Kept", "data": [1, "x", None]}),
        ),
        Case(
            "add-items-arrays",
            "POST",
            add,
            400,
            js({"contact_list_name": "Kept", "data": [[PHONE]]}),
        ),
        Case("delete-contacts-ids-string", "POST", delete_many, 400, js({"ids": "cc-1"})),
        Case("delete-contacts-ids-numbers", "POST", delete_many, 400, js({"ids": [1, 2]})),
        Case("contact-update-phone-object", "PUT", put_contact, 400, js({"phoneNumber": {"a": 1}})),
        Case("contact-update-name-array", "PUT", put_contact, 400, js({"firstName": [1]})),
        Case("campaign-name-number", "POST", new_campaign, 400, js(campaign(name=5))),
        Case("campaign-lists-string", "POST", new_campaign, 400, js(campaign(contactLists="Kept"))),
        Case("campaign-priority-number", "PUT", put_campaign, 400, js(campaign(priority=3))),
        Case(
            "campaign-strategy-array", "POST", new_campaign, 400, js(campaign(dialingStrategy=[]))
        ),
        Case(
            "campaigns-limit-text",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "limit": "10"}),
        ),
        Case(
            "campaigns-filters-array",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "filters": []}),
        ),
        Case("campaigns-type-number", "POST", get_all_campaigns, 400, js({"type": 5})),
        # ---- deep nesting
        Case("create-deep-arrays", "POST", create, 400, nested(DEEP)),
        Case("create-deep-name", "POST", create2, 400, b'{"name": ' + nested(DEEP) + b"}"),
        Case("create-deep-objects", "POST", create, 400, nested_objects(DEEP)),
        Case("update-deep", "PUT", update, 400, b'{"description": ' + nested(DEEP) + b"}"),
        Case(
            "add-deep-item-field",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": [{"phoneNumber": "'
            + PHONE.encode()
            + b'", "x": '
            + nested(DEEP)
            + b"}]}",
        ),
        Case(
            "add-deep-data",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": ' + nested(DEEP) + b"}",
        ),
        Case("campaign-deep", "POST", new_campaign, 400, nested_objects(DEEP)),
        Case(
            "campaigns-get-all-deep",
            "POST",
            get_all_campaigns,
            400,
            b'{"type": "voice", "filters": ' + nested_objects(DEEP) + b"}",
        ),
        Case("contact-update-deep", "PUT", put_contact, 400, b'{"custom": ' + nested(DEEP) + b"}"),
        Case(
            "delete-contacts-deep",
            "POST",
            delete_many,
            400,
            b'{"ids": ' + nested(DEEP, '"cc-1"') + b"}",
        ),
        # ---- invalid UTF-8 and lone surrogates
        Case("create-invalid-utf8", "POST", create, 400, b'{"name": "\xff\xfe"}'),
        Case("create-overlong-utf8", "POST", create2, 400, b'{"name": "\xc0\xaf"}'),
        Case("create-utf8-surrogate", "POST", create, 400, b'{"name": "\xed\xa0\x80"}'),
        Case("create-escaped-surrogate", "POST", create2, 400, b'{"name": "\\ud800"}'),
        Case("update-invalid-utf8", "PUT", update, 400, b'{"description": "caf\xe9"}'),
        Case(
            "add-invalid-utf8-name",
            "POST",
            add,
            400,
            b'{"contact_list_name": "K\xe9pt", "data": [{"phoneNumber": "1"}]}',
        ),
        Case(
            "add-escaped-surrogate-name",
            "POST",
            add,
            400,
            js({"contact_list_name": "\ud800", "data": items}),
        ),
        Case(
            "add-invalid-utf8-value",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": [' + ITEM + b', "x": "\x80"}]}',
        ),
        Case(
            "campaign-invalid-utf8",
            "POST",
            new_campaign,
            400,
            js(campaign(name="Bad"))[:-1] + b', "x": "\xfe"}',
        ),
        Case(
            "campaign-escaped-surrogate",
            "POST",
            new_campaign,
            400,
            js(campaign(queue_name="\udfff")),
        ),
        Case(
            "campaign-list-surrogate",
            "PUT",
            put_campaign,
            400,
            js(campaign(contactLists=["\ud800"])),
        ),
        Case(
            "campaigns-get-all-surrogate",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "filters": {"status": ["\udfff"]}}),
        ),
        Case("delete-contacts-invalid-utf8", "POST", delete_many, 400, b'{"ids": ["cc-\xff"]}'),
        Case(
            "contact-update-surrogate-value", "PUT", put_contact, 400, js({"firstName": "\ud800"})
        ),
        Case("contact-update-surrogate-key", "PUT", put_contact, 400, js({"\ud800": "x"})),
        # ---- NUL characters in strings
        Case("create-nul-name", "POST", create, 400, js({"name": "a\x00b"})),
        Case("update-nul-description", "PUT", update, 400, js({"description": "a\x00b"})),
        Case(
            "add-nul-list-name",
            "POST",
            add,
            400,
            js({"contact_list_name": "Kept\x00", "data": items}),
        ),
        Case("delete-contacts-nul-key", "POST", delete_many, 400, js({"ids\x00": ["cc-1"]})),
        Case("contact-update-nul-value", "PUT", put_contact, 400, js({"firstName": "A\x00"})),
        Case("contact-update-nul-key", "PUT", put_contact, 400, js({"a\x00b": "x"})),
        Case("campaign-nul-name", "POST", new_campaign, 400, js(campaign(name="x\x00"))),
        Case(
            "campaign-nul-list", "PUT", put_campaign, 400, js(campaign(contactLists=["Kept\x00"]))
        ),
        Case(
            "campaign-nul-dnc", "POST", new_campaign, 400, js(campaign(dncLists={"name": "\x00"}))
        ),
        Case("campaigns-get-all-nul", "POST", get_all_campaigns, 400, js({"type": "voice\x00"})),
        # ---- injection strings where they cannot be valid
        Case(
            "add-sql-list-name",
            "POST",
            add,
            404,
            js({"contact_list_name": "x' OR '1'='1", "data": items}),
        ),
        Case(
            "campaign-sql-list",
            "POST",
            new_campaign,
            400,
            js(campaign(contactLists=["Kept' OR 1=1 --"])),
        ),
        Case(
            "campaigns-sql-sort",
            "POST",
            get_all_campaigns,
            400,
            js(
                {
                    "type": "voice",
                    "sortBy": {
                        "name; DROP TABLE campaign": "asc",
                        "name": "asc; DROP TABLE campaign",
                    },
                }
            ),
        ),
        Case("delete-contacts-mixed-ids", "POST", delete_many, 400, js({"ids": ["cc-1", 5, None]})),
        # ---- huge and non-finite numbers
        Case("create-1e400", "POST", create, 400, b'{"name": "n", "allowDuplicates": 1e400}'),
        Case("create-name-1e400", "POST", create2, 400, b'{"name": 1e400}'),
        Case("create-nan", "POST", create, 400, b'{"name": "n", "allowDuplicates": NaN}'),
        Case("create-infinity", "POST", create2, 400, b'{"name": "n", "description": Infinity}'),
        Case(
            "create-5000-digits", "POST", create, 400, b'{"name": "n", "x": ' + b"9" * 5000 + b"}"
        ),
        Case(
            "add-phone-1e400",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": [{"phoneNumber": 1e400}]}',
        ),
        Case(
            "add-field-nan",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": [{"phoneNumber": "+12125550100", "x": NaN}]}',
        ),
        Case(
            "campaigns-skip-2**70",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "skip": 2**70}),
        ),
        Case(
            "campaigns-limit-1e400",
            "POST",
            get_all_campaigns,
            400,
            b'{"type": "voice", "limit": 1e400}',
        ),
        Case(
            "campaigns-page-negative-2**70",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "page": -(2**70)}),
        ),
        Case(
            "campaigns-skip-negative",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "skip": -1}),
        ),
        Case(
            "campaigns-limit-zero",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "limit": 0}),
        ),
        Case(
            "campaigns-page-minus-infinity",
            "POST",
            get_all_campaigns,
            400,
            b'{"type": "voice", "page": -Infinity}',
        ),
        Case(
            "campaigns-start-date-overflows",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "startDate": "9999-12-31T23:59:59-14:00"}),
        ),
        Case(
            "campaigns-end-date-underflows",
            "POST",
            get_all_campaigns,
            400,
            js({"type": "voice", "endDate": "0001-01-01T00:00:00+14:00"}),
        ),
        Case(
            "campaign-attempts-2**70",
            "POST",
            new_campaign,
            400,
            js(
                campaign(
                    dialingStrategy={**campaign()["dialingStrategy"], "maxAttemptsPerRecord": 2**70}
                )
            ),
        ),
        Case(
            "campaign-ring-time-1e400",
            "PUT",
            put_campaign,
            400,
            js(campaign())[:-1] + b', "maxSkips": 1e400}',
        ),
        Case(
            "contact-update-priority-2**70",
            "PUT",
            put_contact,
            400,
            js({"contactPriority": 2**70, "x": 1e308})[:-1] + b', "y": 1e400}',
        ),
        # ---- empty bodies and wrong shapes
        Case("create-empty", "POST", create, 400, b""),
        Case("create-empty-object", "POST", create2, 400, b"{}"),
        Case("create-array", "POST", create, 400, b"[]"),
        Case("update-array", "PUT", update, 400, js([{"name": "x"}])),
        Case("add-empty", "POST", add, 400, b""),
        Case("add-array", "POST", add, 400, js([{"contact_list_name": "Kept", "data": items}])),
        Case("add-no-items", "POST", add, 400, js({"contact_list_name": "Kept", "data": []})),
        Case(
            "add-over-the-batch",
            "POST",
            add,
            400,
            js({"contact_list_name": "Kept", "data": items * (BATCH_LIMIT + 1)}),
        ),
        Case("campaign-empty", "POST", new_campaign, 400, b""),
        Case("campaign-array", "PUT", put_campaign, 400, b"[]"),
        Case("campaigns-get-all-array", "POST", get_all_campaigns, 400, b'[{"type": "voice"}]'),
        Case("delete-contacts-empty", "POST", delete_many, 400, b""),
        Case("delete-contacts-none", "POST", delete_many, 400, js({"ids": []})),
        Case("contact-update-array", "PUT", put_contact, 400, b"[]"),
        Case("contact-update-string", "PUT", put_contact, 400, b'"phoneNumber"'),
        # ---- duplicate keys: which one counts is not defined, so neither does
        Case("create-duplicate-keys", "POST", create, 400, b'{"name": "First", "name": "Second"}'),
        Case(
            "update-duplicate-keys", "PUT", update, 400, b'{"description": "a", "description": "b"}'
        ),
        Case(
            "add-duplicate-keys",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "contact_list_name": "Other", "data": ['
            + ITEM
            + b"}]}",
        ),
        Case(
            "add-duplicate-item-keys",
            "POST",
            add,
            400,
            b'{"contact_list_name": "Kept", "data": [' + ITEM + b', "phoneNumber": "+1212555"}]}',
        ),
        Case(
            "campaign-duplicate-keys",
            "POST",
            new_campaign,
            400,
            js(campaign())[:-1] + b', "name": "Again"}',
        ),
        Case(
            "delete-contacts-duplicate-keys",
            "POST",
            delete_many,
            400,
            b'{"ids": ["cc-1"], "ids": ["cc-2"]}',
        ),
        # ---- field lengths
        Case("create-name-49", "POST", create, 400, js({"name": "x" * 49})),
        Case(
            "create-description-257",
            "POST",
            create2,
            400,
            js({"name": "n", "description": "x" * 257}),
        ),
        Case(
            "add-list-name-193",
            "POST",
            add,
            400,
            js({"contact_list_name": "x" * 193, "data": items}),
        ),
        Case("campaign-name-49", "POST", new_campaign, 400, js(campaign(name="x" * 49))),
        Case(
            "campaign-description-257",
            "PUT",
            put_campaign,
            400,
            js(campaign(description="x" * 257)),
        ),
        Case(
            "campaign-101-lists",
            "POST",
            new_campaign,
            400,
            js(campaign(contactLists=["Kept"] * 101)),
        ),
        Case("contact-update-unique-id-301", "PUT", put_contact, 400, js({"uniqueId": "x" * 301})),
        Case("contact-update-field-name-101", "PUT", put_contact, 400, js({"x" * 101: "v"})),
        Case("contact-update-value-301", "PUT", put_contact, 400, js({"plan": "x" * 301})),
        Case(
            "contact-update-151-fields",
            "PUT",
            put_contact,
            400,
            js({f"f{index}": "v" for index in range(151)}),
        ),
        # ---- wrong content types
        Case("create-text-plain", "POST", create, 415, js({"name": "Typed"}), "text/plain"),
        Case(
            "create-form", "POST", create2, 415, b"name=Typed", "application/x-www-form-urlencoded"
        ),
        Case(
            "create-latin-1",
            "POST",
            create,
            415,
            '{"name": "Café"}'.encode("latin-1"),
            "application/json; charset=iso-8859-1",
        ),
        Case(
            "create-utf-16",
            "POST",
            create2,
            415,
            '{"name": "Wide"}'.encode("utf-16"),
            "application/json; charset=utf-16",
        ),
        Case("update-xml", "PUT", update, 415, b"<name>x</name>", "application/xml"),
        Case(
            "add-form",
            "POST",
            add,
            415,
            js({"contact_list_name": "Kept", "data": items}),
            "application/x-www-form-urlencoded",
        ),
        Case("add-multipart", "POST", add, 415, *form(file_part(GOOD_CSV))),
        Case("campaign-text", "POST", new_campaign, 415, js(campaign()), "text/xml"),
        Case("delete-contacts-text", "POST", delete_many, 415, js({"ids": ["cc-1"]}), "text/plain"),
        Case("contact-update-csv", "PUT", put_contact, 415, b"firstName\nEve\n", "text/csv"),
    ]


def upload_cases() -> list[Case]:
    """Multipart uploads (and what is not one)."""
    upload = "{v2}/contactList/{list}/upload"
    big = csv_bytes([["phoneNumber"], *([PHONE] for _ in range(UPLOAD_LIMIT // 10))])
    return [
        upload_case("upload-oversized", 413, file_part(big)),
        Case("upload-oversized-chunked", "POST", upload, 413, *_chunked_form(file_part(big))),
        Case("upload-json", "POST", upload, 415, js({"file": "x"})),
        Case("upload-raw-csv", "POST", upload, 415, GOOD_CSV, "text/csv"),
        Case("upload-no-boundary", "POST", upload, 400, GOOD_CSV, "multipart/form-data"),
        upload_case("upload-no-parts", 400),
        upload_case("upload-no-file", 400, mapping_part(b"{}")),
        upload_case("upload-two-files", 400, file_part(GOOD_CSV), file_part(GOOD_CSV)),
        upload_case("upload-empty-file", 400, file_part(b"")),
        upload_case("upload-header-only-blank", 400, file_part(b"\r\n\r\n")),
        upload_case(
            "upload-invalid-utf8-header", 400, file_part(b"phone\xffNumber\r\n+12125550100\r\n")
        ),
        upload_case(
            "upload-utf16-file", 400, file_part("phoneNumber\r\n+12125550100\r\n".encode("utf-16"))
        ),
        upload_case(
            "upload-nul-in-header", 400, file_part(b"phoneNumber,pl\x00an\r\n+12125550100,x\r\n")
        ),
        upload_case(
            "upload-binary", 400, file_part(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
        ),
        upload_case("upload-truncated-gzip", 400, file_part(gzip.compress(GOOD_CSV)[:20])),
        upload_case(
            "upload-column-name-101",
            400,
            file_part(csv_bytes([["phoneNumber", "x" * 101], [PHONE, "v"]])),
        ),
        upload_case(
            "upload-151-columns",
            400,
            file_part(
                csv_bytes([["phoneNumber", *(f"c{i}" for i in range(151))], [PHONE, *("v" * 151)]])
            ),
        ),
        upload_case(
            "upload-mapping-not-json", 400, file_part(GOOD_CSV), mapping_part(b"{phoneNumber")
        ),
        upload_case(
            "upload-mapping-array", 400, file_part(GOOD_CSV), mapping_part(b'["phoneNumber"]')
        ),
        upload_case(
            "upload-mapping-deep", 400, file_part(GOOD_CSV), mapping_part(nested_objects(DEEP))
        ),
        upload_case(
            "upload-mapping-invalid-utf8",
            400,
            file_part(GOOD_CSV),
            mapping_part(b'{"phoneNumber": "ph\xffone"}'),
        ),
        upload_case(
            "upload-mapping-nul",
            400,
            file_part(GOOD_CSV),
            mapping_part(js({"phoneNumber": "phone\x00Number"})),
        ),
        upload_case(
            "upload-mapping-duplicate-keys",
            400,
            file_part(GOOD_CSV),
            mapping_part(b'{"phoneNumber": "phoneNumber", "phoneNumber": "firstName"}'),
        ),
        upload_case(
            "upload-mapping-unknown-header",
            400,
            file_part(GOOD_CSV),
            mapping_part(js({"phoneNumber": "x" * 5000})),
        ),
        upload_case(
            "upload-mapping-nan", 400, file_part(GOOD_CSV), mapping_part(b'{"phoneNumber": NaN}')
        ),
        upload_case(
            "upload-mapping-file",
            400,
            file_part(GOOD_CSV),
            (b'form-data; name="mapping"; filename="m.json"', b"{}"),
        ),
    ]


def encoding_and_workbook_cases() -> list[Case]:
    """The `encoding` field of CSV uploads, and Excel workbooks that are not readable ones."""
    accented = "phoneNumber,firstName\r\n+12125550100,José Muñoz 5 €\r\n"
    good = workbook_bytes([["phoneNumber"], [PHONE]])

    def encoding(case_id: str, value: bytes, **more: Any) -> Case:
        return upload_case(
            case_id, 400, file_part(GOOD_CSV), encoding_part(value), fields=("encoding",), **more
        )

    def sheet(rows: str, **options: str) -> bytes:
        return replaced(workbook_bytes([["x"]]), {SHEET_PART: sheet_xml(rows, **options)})

    header_and_one = inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": PHONE})
    laughs = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + n)} "{f"&{chr(97 + n)};" * 10}">' for n in range(8)
    )
    return [
        encoding("upload-encoding-unknown", b"klingon", says="unknown encoding"),
        encoding("upload-encoding-41-characters", b"u" * 41, says="at most 40"),
        encoding("upload-encoding-100-kib", b"u" * 100_000, says="at most 40"),
        encoding("upload-encoding-not-text", b"rot13", says="not a text encoding"),
        encoding("upload-encoding-bytes-codec", b"zlib", says="not a text encoding"),
        encoding("upload-encoding-nul", b"utf-8\x00", says="at most 40"),
        encoding("upload-encoding-path", b"../../etc/passwd", says="at most 40"),
        encoding("upload-encoding-invalid-utf8", b"utf\xff8"),
        upload_case(
            "upload-encoding-file",
            400,
            file_part(GOOD_CSV),
            (b'form-data; name="encoding"; filename="e.txt"', b"cp1252"),
        ),
        upload_case(
            "upload-cp1252-sent-as-utf8",
            400,
            file_part(accented.encode("cp1252")),
            fields=("file",),
            says="send encoding=cp1252",
        ),
        upload_case(
            "upload-utf8-sent-as-utf16",
            400,
            file_part(accented.encode() + b"x"),
            encoding_part(b"utf-16"),
            fields=("file",),
            says="not utf-16 text",
        ),
        upload_case(
            "upload-xls",
            400,
            file_part(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504), b"old.xls"),
            fields=("file",),
            says="old Excel workbook (.xls)",
        ),
        upload_case(
            "upload-zip-not-workbook",
            400,
            file_part(replaced(good, {}).replace(b"xl/workbook.xml", b"xl/workbook.xmm")),
            fields=("file",),
        ),
        upload_case(
            "upload-xlsx-encrypted",
            400,
            file_part(replaced(good, {}, encrypted=True), b"locked.xlsx"),
            fields=("file",),
            says="encrypted",
        ),
        upload_case(
            "upload-xlsx-truncated", 400, file_part(good[: len(good) // 2]), fields=("file",)
        ),
        upload_case(
            "upload-xlsx-corrupt-sheet",
            400,
            file_part(replaced(good, {SHEET_PART: b"<worksheet><sheetData><row"})),
            fields=("file",),
            says="damaged",
        ),
        upload_case(
            "upload-xlsx-declares-16384-columns",
            400,
            file_part(sheet(header_and_one, dimension="A1:XFD1048576")),
            fields=("file",),
            says="declares 16384 columns",
        ),
        upload_case(
            "upload-xlsx-value-in-column-xfd",
            400,
            file_part(sheet(header_and_one + inline_row(3, {"XFD": "x"}))),
            fields=("file",),
            says="column 16384",
        ),
        upload_case(
            "upload-xlsx-billion-laughs",
            400,
            file_part(
                sheet(
                    inline_row(1, {"A": "phoneNumber"}) + inline_row(2, {"A": "&i;"}),
                    prolog=f"<!DOCTYPE worksheet [{laughs}]>",
                )
            ),
            fields=("file",),
        ),
        upload_case(
            "upload-xlsx-header-only",
            400,
            file_part(workbook_bytes([["phoneNumber"]])),
            fields=("file",),
            says="no contacts",
        ),
    ]


def _chunked_form(*parts: tuple[bytes, bytes]) -> tuple[Chunked, str]:
    content, content_type = form(*parts)
    return Chunked(content), content_type


def path_and_query_cases() -> list[Case]:
    """Hostile ids in paths, and hostile query strings."""
    contacts = "{v1}/contactList/{list}/getAllContacts"
    lists = "{v2}/contactList/getAllListDetails"
    return [
        # ---- ids
        Case("list-id-nul", "GET", "{v1}/contactList/cl-%00", 404),
        Case("list-id-traversal", "GET", "{v2}/contactList/..%2F..%2Fetc%2Fpasswd", 404),
        Case("list-id-sql", "DELETE", "{v1}/contactList/cl-1'%20OR%20'1'='1", 404),
        Case("list-id-2000", "PUT", "{v2}/contactList/cl-" + "f" * 2000, 404, js({"name": "x"})),
        Case("list-id-unicode", "GET", "{v1}/contactList/cl-%E2%98%83", 404),
        Case("contact-id-nul", "GET", "{v2}/contactList/{list}/contacts/cc-%00", 404),
        Case("contact-id-sql", "DELETE", "{v1}/contactList/{list}/contacts/cc-1'--", 404),
        Case("job-id-nul", "GET", "{v1}/jobs/job-%00", 404),
        Case("job-id-sql", "GET", "{v2}/jobs/job-1'%20OR%20'1'='1/errors", 404),
        Case("job-id-traversal", "POST", "{v1}/jobs/..%2F..%2Fjob/cancel", 404),
        Case("job-id-65", "GET", "{v2}/jobs/job-" + "a" * 61, 400),
        Case("job-id-surrogate-bytes", "GET", "{v1}/jobs/job-%ED%A0%80", 404),
        Case("job-id-invalid-utf8", "GET", "{v2}/jobs/job-%FF", 404),
        Case("campaign-id-nul", "GET", "{v1}/cd-%00", 404),
        Case("campaign-id-sql", "POST", "{v2}/cd-1'--/status?view=status", 404),
        Case(
            "bot-nul", "GET", "/agentassist/api/v1/public/st-%00/campaign/contactList/{list}", 400
        ),
        Case(
            "bot-traversal",
            "GET",
            "/campaign/api/v2/public/..%2F..%2F/campaign/contactList/{list}",
            404,
        ),
        Case(
            "bot-2000",
            "GET",
            "/agentassist/api/v1/public/st-" + "a" * 2000 + "/campaign/contactList/{list}",
            400,
        ),
        # ---- query strings
        Case("lists-search-nul", "GET", lists + "?search=%00", 400),
        Case("lists-search-193", "POST", lists + "?search=" + "x" * 193, 400),
        Case("lists-type-sql", "GET", lists + "?type=call'%20OR%201=1", 400),
        Case("lists-type-nul", "POST", lists + "?type=%00", 400),
        Case("lists-skip-negative", "GET", lists + "?skip=-1", 400),
        Case("lists-limit-negative", "POST", lists + "?limit=-1", 400),
        Case("lists-limit-huge", "GET", lists + "?limit=99999999999999999999999", 400),
        Case("lists-skip-2**64", "GET", lists + f"?skip={2**64}", 400),
        Case("lists-limit-nan", "GET", lists + "?limit=NaN", 400),
        Case("lists-skip-float", "POST", lists + "?skip=1e3", 400),
        Case("contacts-skip-negative", "GET", contacts + "?skip=-5", 400),
        Case("contacts-limit-zero", "GET", contacts + "?limit=0", 400),
        Case("contacts-limit-1001", "GET", contacts + "?limit=1001", 400),
        Case("contacts-skip-2**70", "GET", contacts + f"?skip={2**70}", 400),
        Case("contacts-cursor-garbage", "GET", contacts + "?cursor=!!!", 400),
        Case("contacts-cursor-nul", "GET", contacts + "?cursor=%00", 400),
        Case("contacts-cursor-65", "GET", contacts + "?cursor=" + "A" * 65, 400),
        Case(
            "contacts-cursor-huge-position", "GET", contacts + "?cursor=" + _cursor("9" * 40), 400
        ),
        Case("contacts-cursor-negative", "GET", contacts + "?cursor=" + _cursor("-1"), 400),
        Case("delete-list-force-maybe", "DELETE", "{v2}/contactList/{list}?force=maybe", 400),
        Case("campaign-type-nul", "DELETE", "{v1}/{campaign}?campaignType=%00", 400),
        Case(
            "campaign-trigger-unknown",
            "POST",
            "{v2}/{campaign}?campaignType=voice&trigger=explode",
            400,
        ),
        Case("campaign-status-view", "POST", "{v1}/{campaign}/status?view=%00", 400),
        Case("campaign-create-type-sql", "POST", "{v2}?campaignType=voice'--", 400, js(campaign())),
    ]


def _cursor(position: str) -> str:
    """A cursor as the service makes them, at any position (even one it never issues)."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def state_and_credential_cases() -> list[Case]:
    """Requests that are well formed but may not change anything."""
    return [
        Case(
            "create-duplicate-name",
            "POST",
            "{v1}/contactList/createContactList",
            409,
            js({"name": " KEPT "}),
            reason="duplicate_name",
        ),
        Case("delete-list-in-use", "DELETE", "{v2}/contactList/{list}", 409, reason="list_in_use"),
        Case(
            "campaign-stop-when-ready",
            "POST",
            "{v1}/{campaign}?campaignType=voice&trigger=stop",
            409,
            reason="invalid_state",
        ),
        Case("campaign-wrong-type", "PUT", "{v2}/{campaign}?campaignType=sms", 400, js(campaign())),
        Case("restore-live-list", "POST", "{v1}/contactList/{list}/restore", 404),
        Case("list-wrong-method", "PATCH", "{v2}/contactList/{list}", 405, js({"name": "x"})),
        Case("no-token", "DELETE", "{v1}/contactList/{list}", 401, anonymous=True),
        Case(
            "garbage-token",
            "POST",
            "{add}",
            401,
            js({"contact_list_name": "Kept", "data": [{"phoneNumber": PHONE}]}),
            anonymous=True,
            headers={"auth": "\x00garbage"},
        ),
        Case(
            "bearer-nothing",
            "PUT",
            "{v2}/contactList/{list}",
            401,
            js({"name": "x"}),
            anonymous=True,
            headers={"Authorization": "Bearer "},
        ),
        Case(
            "iid-mismatch",
            "DELETE",
            "{v2}/contactList/{list}",
            403,
            headers={"iid": "st-someone-else"},
        ),
        Case(
            "account-mismatch",
            "DELETE",
            "{v1}/{campaign}?campaignType=voice",
            403,
            headers={"accountId": "0" * 24},
        ),
        Case(
            "account-header-and-query-disagree",
            "POST",
            "{v1}/contactList/{list}/restore?accountId=" + "f" * 24,
            400,
        ),
    ]


# ---------------------------------------------------------------- routes, methods and ids

FAMILIES = ("v1", "v2")
# A list id of the right form that no list has.
UNKNOWN_LIST = "cl-5e0f6a52-7d1c-4f57-9a43-2b0c9d8e1f05"


def family_of(index: int) -> str:
    """Rows of one rule go alternately through v1 and v2: each family sees half of them."""
    return "{" + FAMILIES[index % 2] + "}"


def route_cases() -> list[Case]:
    """Unknown routes, wrong methods and ids that name nothing of the tenant's."""
    rows = [
        Case(f"route-unknown-{index}", method, path, 404, content_type=None)
        for index, (method, path) in enumerate(
            [
                ("GET", "/nope"),
                ("POST", "/"),
                ("GET", "/agentassist/api/v9/public/{bot}/campaign/contactList/x"),
                ("POST", "{v1}/contactList/createContactList/extra"),
                ("GET", "{v1}/contactLists"),
            ]
        )
    ]
    # Wrong methods, with a body and without; on a list that exists and on one that does not.
    wrong = [
        ("PATCH", "{v1}/contactList/%s", {"GET", "PUT", "DELETE"}),
        ("PATCH", "{v2}/contactList/%s", {"GET", "PUT", "DELETE"}),
        ("POST", "{v2}/contactList/%s", {"GET", "PUT", "DELETE"}),
        ("PATCH", "{v1}/contactList/getAllListDetails", {"GET", "POST"}),
        ("PATCH", "{v2}/contactList/createContactList", {"POST"}),
        ("POST", "/healthz", {"GET"}),
    ]
    for index, (method, path, methods) in enumerate(wrong):
        rows.append(
            Case(
                f"method-wrong-{index}",
                method,
                path.replace("%s", "{list}"),
                405,
                b'{"name": "Changed"}',
                allow=frozenset(methods),
            )
        )
        rows.append(
            Case(
                f"method-wrong-unknown-list-{index}",
                method,
                path.replace("%s", UNKNOWN_LIST),
                405,
                allow=frozenset(methods),
            )
        )
    # createContactList and getAllListDetails are routes of their own, not list ids.
    for family in FAMILIES:
        for method, route, served in [
            ("DELETE", "createContactList", "POST"),
            ("GET", "createContactList", "POST"),
            ("PUT", "createContactList", "POST"),
            ("PUT", "getAllListDetails", "GET"),
            ("DELETE", "getAllListDetails", "GET"),
        ]:
            rows.append(
                Case(
                    f"method-named-route-{family}-{method.lower()}-{route}",
                    method,
                    f"{{{family}}}/contactList/{route}",
                    405,
                    b'{"name": "x"}',
                    allow=frozenset({served}),
                )
            )
    # Unknown, malformed and long list ids, and another account's list: all 404.
    unknown_ids = [
        UNKNOWN_LIST,
        "not-a-list-id",
        "cl-",
        "cl-%E2%98%83",
        "%20",
        "cl-" + "f" * 2_000,
        "{foreign}",
    ]
    index = 0
    for id_index, list_id in enumerate(unknown_ids):
        for how, method, body in [
            ("get", "GET", None),
            ("put", "PUT", js({"name": "Renamed"})),
            ("put-empty", "PUT", b"{}"),
            ("delete", "DELETE", None),
        ]:
            rows.append(
                Case(
                    f"list-id-unknown-{id_index}-{how}",
                    method,
                    f"{family_of(index)}/contactList/{list_id}",
                    404,
                    body,
                )
            )
            index += 1
    # PostgreSQL cannot even compare a text holding NUL: the id must never reach it as is.
    for family in FAMILIES:
        for method, body in [("GET", None), ("PUT", b'{"name": "x"}'), ("DELETE", None)]:
            rows.append(
                Case(
                    f"list-id-nul-{family}-{method.lower()}",
                    method,
                    f"{{{family}}}/contactList/cl-%00",
                    404,
                    body,
                )
            )
    # Job ids that are not one, on each job route.
    for id_index, job_id in enumerate(
        ["job-%00", "job-1'--", "job-", "%2e%2e", "other-1", "job-" + "a" * 101]
    ):
        for method, suffix in [("GET", ""), ("GET", "/errors"), ("POST", "/cancel")]:
            rows.append(
                Case(
                    f"job-id-not-one-{id_index}{suffix.replace('/', '-') or '-get'}",
                    method,
                    f"{{v2}}/jobs/{job_id}{suffix}",
                    404,
                )
            )
    return rows


# ---------------------------------------------------------------- lists: create and update


def create_path(index: int) -> str:
    return f"{family_of(index)}/contactList/createContactList"


def update_path(index: int, list_id: str = "{list}") -> str:
    return f"{family_of(index)}/contactList/{list_id}"


def rejected(
    prefix: str, cases: list[tuple[Any, list[str]]], *, update: bool = False
) -> list[Case]:
    """Each body of ``cases`` is a 400 naming exactly its fields."""
    return [
        Case(
            f"{prefix}-{index:02d}",
            "PUT" if update else "POST",
            update_path(index) if update else create_path(index),
            400,
            js(body),
            fields=tuple(fields),
        )
        for index, (body, fields) in enumerate(cases)
    ]


KORE_SAMPLE_TYPO = {
    # Kore.ai's own create sample spells the key `name1`.
    "name1": "Renewal Due - August 2025",
    "description": "This list contains customers with services expiring in July 2025.",
    "allowDuplicates": True,
}
NAME_IS_REQUIRED = {
    "status": "failure",
    "message": "name is required",
    "errors": [
        {"msg": "name is required", "code": 400, "reason": "validation_error", "field": "name"}
    ],
}


def list_field_cases() -> list[Case]:
    """createContactList and update: each field outside its rules (CONTRACT §4.1, §4.4)."""
    bad_names: list[Any] = [
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
        # wrong types
        5,
        4.5,
        True,
        None,
        [],
        ["x"],
        {"name": "x"},
    ]
    names = [({"name": name, "description": "d"}, ["name"]) for name in bad_names]
    names += [({}, ["name"]), ({"description": "no name"}, ["name"])]
    descriptions: list[Any] = [
        "x" * 257,
        "é" * 257,
        "nul\x00inside",
        ["a", "list"],
        12,
        {"text": "x"},
    ]
    not_booleans: list[Any] = ["true", "false", 1, 0, None, "yes", [], {}]
    # localDrive is the source of uploaded lists; a client cannot claim it.
    sources: list[Any] = [
        "localDrive",
        "bogus",
        "PASSIVEAPI",
        "passiveapi",
        "",
        1,
        None,
        ["passiveApi"],
    ]
    # DNC lists are made through createContactList too ("dnc"), but spelled exactly.
    list_types: list[Any] = ["DNC", "CALL", "voice", "", 1, None, ["call"]]
    regions: list[Any] = ["XX", "ZZ", "USA", "U", "", "G1", "gb\n", " GB", 44, ["GB"]]
    everything_wrong = {
        "name": 5,
        "description": ["not", "text"],
        "allowDuplicates": "true",
        "source": "elsewhere",
        "listType": "voice",
        "defaultRegion": "USA",
    }
    updates: list[tuple[Any, list[str]]] = [
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
    return [
        *rejected("create-bad-name", names),
        *rejected(
            "create-bad-description",
            [({"name": "n", "description": value}, ["description"]) for value in descriptions],
        ),
        *rejected(
            "create-allow-duplicates-not-boolean",
            [
                ({"name": "n", "allowDuplicates": value}, ["allowDuplicates"])
                for value in not_booleans
            ],
        ),
        *rejected(
            "create-bad-source", [({"name": "n", "source": value}, ["source"]) for value in sources]
        ),
        *rejected(
            "create-bad-list-type",
            [({"name": "n", "listType": value}, ["listType"]) for value in list_types],
        ),
        *rejected(
            "create-bad-region",
            [({"name": "n", "defaultRegion": value}, ["defaultRegion"]) for value in regions],
        ),
        # One entry per problem; "XX" has the right form but names no region.
        *rejected(
            "create-every-problem",
            [
                (everything_wrong, list(everything_wrong)),
                (everything_wrong, list(everything_wrong)),
                (
                    {"description": "x" * 257, "allowDuplicates": 1},
                    ["name", "description", "allowDuplicates"],
                ),
                ({"name": "", "source": 1}, ["name", "source"]),
                ({"name": "", "defaultRegion": "XX"}, ["name", "defaultRegion"]),
                ({"name": "n", "source": "x", "defaultRegion": "XX"}, ["source", "defaultRegion"]),
            ],
        ),
        *[
            Case(
                f"create-kore-sample-typo-{family}",
                "POST",
                f"{{{family}}}/contactList/createContactList",
                400,
                js(KORE_SAMPLE_TYPO),
                exact=NAME_IS_REQUIRED,
            )
            for family in FAMILIES
        ],
        *rejected("update-bad-field", updates, update=True),
    ]


def list_body_cases() -> list[Case]:
    """Bodies that are not a JSON object, JSON that parsers read differently, media types."""
    not_objects = [
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
        # 120,000 bytes: as deep as the body limit of this table allows.
        b'{"a": ' * 20_000,
        b"1" * 100_000,
        b'{"name": "x", "description": ' + b"9" * 5_000 + b"}",
    ]
    rows = [
        Case(
            f"create-not-an-object-{index:02d}",
            "POST",
            create_path(index),
            400,
            content,
            fields=("body",),
        )
        for index, content in enumerate(not_objects)
    ]
    rows += [
        Case(
            f"update-not-an-object-{index}",
            "PUT",
            update_path(index),
            400,
            content,
            fields=("body",),
        )
        for index, content in enumerate(
            [b"{", b"[]", b'"name"', b'{"name": "\xff"}', b"[" * 100_000]
        )
    ]
    # JSON that parsers read differently is refused, and the message says why.
    for index, (content, said) in enumerate(
        [
            (b'{"name": "a", "name": "b"}', 'The key "name" appears twice'),
            (b'{"name": "a", "x": {"k": 1, "k": 2}}', 'The key "k" appears twice'),
            (b'{"name": "a", "x": NaN}', "NaN is not a JSON value"),
            (b'{"name": "a", "x": -Infinity}', "-Infinity is not a JSON value"),
            (b'{"name": "a", "x": 1e400}', "The number 1e400 is too large"),
            (b'{"name": "a", "x": -2.5E+999}', "The number -2.5E+999 is too large"),
        ]
    ):
        rows.append(
            Case(
                f"create-ambiguous-json-{index}",
                "POST",
                "{v2}/contactList/createContactList",
                400,
                content,
                fields=("body",),
                says=said,
            )
        )
    # A charset other than UTF-8 is a 415 that says so.
    for charset in ["iso-8859-1", "latin1", "utf-16", "UTF-16LE", "us-ascii", "windows-1252", ""]:
        rows.append(
            Case(
                f"create-charset-{charset or 'empty'}",
                "POST",
                "{v1}/contactList/createContactList",
                415,
                b'{"name": "Labelled"}',
                f"application/json; charset={charset}",
                says="UTF-8",
            )
        )
    # A body that is not JSON, on create and update.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"]:
        short = content_type.split("/")[1][:5]
        for family in FAMILIES:
            for method, path in [
                ("POST", f"{{{family}}}/contactList/createContactList"),
                ("PUT", f"{{{family}}}/contactList/{{list}}"),
            ]:
                rows.append(
                    Case(
                        f"{'create' if method == 'POST' else 'update'}-not-json-{short}-{family}",
                        method,
                        path,
                        415,
                        js({"name": "Sneaked in"}),
                        content_type,
                    )
                )
    # Over the body limit: declared and streamed on v1 (v2 is in body_cases), an update.
    rows += [
        Case(
            "create-oversized-chunked-v1",
            "POST",
            "{v1}/contactList/createContactList",
            413,
            Chunked(padded({"name": "Streamed"}, 4 * BODY_LIMIT)),
        ),
        Case(
            "update-oversized-description",
            "PUT",
            "{v2}/contactList/{list}",
            413,
            padded({"description": "new"}),
        ),
    ]
    return rows


def list_name_taken_cases() -> list[Case]:
    """Names are unique per bot, compared case-folded: "Renewal" and "Straße" are taken."""
    rows = [
        Case(
            f"create-name-taken-{index}",
            "POST",
            create_path(index),
            409,
            js({"name": name}),
            reason="duplicate_name",
        )
        for index, name in enumerate(
            [
                "Renewal",
                "RENEWAL",
                "renewal",
                "  rEnEwAl \t",
                "STRASSE",
                "strasse",
                "Strasse",
                "STRAẞE",
            ]
        )
    ]
    renames: list[dict[str, Any]] = [
        {"name": "Renewal"},
        {"name": "RENEWAL"},
        {"name": " renewal "},
        {"name": "renewal", "description": "changed", "allowDuplicates": True},
    ]
    rows += [
        Case(
            f"update-name-taken-{index}",
            "PUT",
            update_path(index),
            409,
            js(body),
            reason="duplicate_name",
        )
        for index, body in enumerate(renames)
    ]
    # The other tenant has "STRASSE"; its list "Foreign" may not become "Straße".
    rows.append(
        Case(
            "update-name-taken-folded",
            "PUT",
            "{v1}/contactList/{foreign}",
            409,
            js({"name": "Straße"}),
            other=True,
            reason="duplicate_name",
        )
    )
    return rows


# ---------------------------------------------------------------- query strings and paging

# Offsets past 64 bits used to reach the database, which cannot hold them: a 500.
HUGE_OFFSETS = [10**12 + 1, 2**63, 10**30]


def query_rule_cases() -> list[Case]:
    """get-all's query parameters, offsets, cursors and search text outside their rules."""
    lists = "{v1}/contactList/getAllListDetails"
    contacts = "{v1}/contactList/{list}/getAllContacts"
    campaigns = "{v1}/getAllCampaignDetails"
    rows: list[Case] = []
    bad_queries = [
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
    # Every query once by GET and once by POST, each time through the other family.
    for method, shift in [("GET", 0), ("POST", 1)]:
        for index, (query, fields) in enumerate(bad_queries):
            rows.append(
                Case(
                    f"lists-query-{method.lower()}-{index}",
                    method,
                    f"{family_of(index + shift)}/contactList/getAllListDetails?{query}",
                    400,
                    fields=tuple(fields),
                )
            )
    for offset in HUGE_OFFSETS:
        rows += [
            Case(f"lists-skip-{offset}", "GET", f"{lists}?skip={offset}", 400, fields=("skip",)),
            Case(
                f"contacts-skip-{offset}", "GET", f"{contacts}?skip={offset}", 400, fields=("skip",)
            ),
            Case(
                f"campaigns-skip-{offset}",
                "POST",
                campaigns,
                400,
                js({"type": "voice", "skip": offset}),
                fields=("skip",),
            ),
            Case(
                f"campaigns-page-{offset}",
                "POST",
                campaigns,
                400,
                js({"type": "voice", "page": offset, "limit": 1000}),
                fields=("page",),
            ),
        ]
    # Positions past 64 bits, and digits that int() reads but that are not ASCII.
    for index, position in enumerate([str(2**63), "9" * 40, "١٢", "-1", "+1", " 1"]):
        rows.append(
            Case(
                f"contacts-cursor-position-{index}",
                "GET",
                f"{contacts}?cursor={_cursor(position)}",
                400,
                fields=("cursor",),
            )
        )
    # Control characters in search are a 400, not a database error.
    for index, search in enumerate(["\x00", "a\x00b", "\x1b[31m"]):
        rows.append(
            Case(
                f"lists-search-control-{index}",
                "GET",
                f"{lists}?search={quote(search)}",
                400,
                fields=("search",),
            )
        )
    return rows


# ---------------------------------------------------------------- contacts, campaigns, uploads


def field_rule_cases() -> list[Case]:
    """Fields of addContacts, campaign filters and upload mappings, each named by its 400."""
    rows = [
        Case(
            f"add-list-name-control-{index}",
            "POST",
            "{add}",
            400,
            js({"contact_list_name": name, "data": [{"phoneNumber": PHONE}]}),
            fields=("contact_list_name",),
        )
        for index, name in enumerate(["Kept\x00", "\x00", "Ke\x07pt", "Kept\n"])
    ]
    # A date whose UTC time does not exist.
    for name, value in [
        ("startDate", "9999-12-31T23:59:59-14:00"),
        ("endDate", "0001-01-01T00:00:00+14:00"),
    ]:
        rows.append(
            Case(
                f"campaigns-{name}-out-of-range-v1",
                "POST",
                "{v1}/getAllCampaignDetails",
                400,
                js({"type": "voice", name: value}),
                fields=(name,),
                says="out of the range of dates",
            )
        )
    rows.append(
        upload_case(
            "upload-mapping-repeated-key-named",
            400,
            file_part(b"Mobile,Other\r\n+12125550100,x\r\n", b"a.csv"),
            mapping_part(b'{"phoneNumber": "Mobile", "phoneNumber": "Other"}'),
            fields=("mapping",),
            says='The key "phoneNumber" appears twice',
        )
    )
    return rows


# ---------------------------------------------------------------- contact filters


def contact_filter_cases() -> list[Case]:
    """getAllContacts' and export's filters (CONTRACT §4.9) outside their rules."""
    rows: list[Case] = []
    bad: list[tuple[str, str, tuple[str, ...]]] = [
        ("phone-unreadable", "phoneNumber=not%20a%20number", ("phoneNumber",)),
        ("phone-no-us-number", "phoneNumber=555%20555%205555", ("phoneNumber",)),
        ("phone-nul", "phoneNumber=%2B1212%00", ("phoneNumber",)),
        ("phone-oversized", "phoneNumber=" + "1" * 251, ("phoneNumber",)),
        ("zone-unknown", "timeZone=Mars%2FOlympus", ("timeZone",)),
        ("zone-case", "timeZone=america%2Fnew_york", ("timeZone",)),
        ("zone-oversized", "timeZone=" + "A" * 65, ("timeZone",)),
        ("after-not-a-time", "createdAfter=yesterday", ("createdAfter",)),
        ("before-not-a-date", "createdBefore=2026-02-30", ("createdBefore",)),
        ("after-out-of-range", "createdAfter=9999-12-31T23:59:59-14:00", ("createdAfter",)),
        ("before-oversized", "createdBefore=" + "2" * 200, ("createdBefore",)),
        (
            "range-inverted",
            "createdAfter=2026-02-01T00:00:00Z&createdBefore=2026-01-01T00:00:00Z",
            ("createdAfter",),
        ),
        (
            "range-empty",
            "createdAfter=2026-01-01T00:00:00Z&createdBefore=2026-01-01T00:00:00Z",
            ("createdAfter",),
        ),
        ("search-nul", "search=a%00", ("search",)),
        ("search-escape", "search=%1b%5B31m", ("search",)),
        ("search-too-long", "search=" + "a" * 301, ("search",)),
        ("search-oversized", "search=" + "a" * 20_000, ("search",)),
        ("fields-too-many", "&".join(f"fields.f{i}=x" for i in range(11)), ("fields",)),
        ("fields-thousands", "&".join(f"fields.f{i}=x" for i in range(2000)), ("fields",)),
        ("fields-repeated", "fields.plan=gold&fields.plan=silver", ("fields.plan",)),
        ("fields-no-name", "fields.=x", ("fields.",)),
        ("fields-blank-name", "fields.%20=x", ("fields. ",)),
        ("fields-long-name", "fields." + "n" * 101 + "=x", ("fields." + "n" * 100,)),
        ("fields-long-value", "fields.plan=" + "v" * 301, ("fields.plan",)),
        ("fields-nul-value", "fields.plan=a%00", ("fields.plan",)),
        ("fields-nul-name", "fields.plan%00%27%20OR%20x=y", ("fields.plan\ufffd' OR x",)),
        ("cursor-of-no-filters", f"search=ann&cursor={_cursor('5')}", ("cursor",)),
        ("cursor-of-other-filters", f"cursor={_cursor('5f0123456789ab')}", ("cursor",)),
        (
            "every-filter-bad",
            "phoneNumber=x&timeZone=x&createdAfter=x&createdBefore=y&search=%00",
            ("phoneNumber", "timeZone", "createdAfter", "createdBefore", "search"),
        ),
    ]
    for index, (name, query, fields) in enumerate(bad):
        rows.append(
            Case(
                f"contacts-filter-{name}",
                "GET",
                f"{family_of(index)}/contactList/{{list}}/getAllContacts?{query}",
                400,
                fields=fields,
            )
        )
        if "cursor" not in name:  # an export has no cursor
            rows.append(
                Case(
                    f"export-filter-{name}",
                    "GET",
                    f"{family_of(index + 1)}/contactList/{{list}}/export?{query}",
                    400,
                    fields=fields,
                )
            )
    # Another account's list is not found, whatever the filters say.
    for route in ("getAllContacts", "export"):
        rows.append(
            Case(
                f"{route}-filter-other-tenant",
                "GET",
                f"{{v2}}/contactList/{{list}}/{route}?search=ann&fields.plan=gold",
                404,
                other=True,
            )
        )
    return rows


def upsert_undo_cases() -> list[Case]:
    """The list's dedupeKey, an import's onDuplicate, and the undo of a job."""
    add = {"contact_list_name": "Kept", "data": [{"phoneNumber": PHONE, "firstName": "New"}]}
    rows: list[Case] = [
        Case(
            f"add-on-duplicate-{name}",
            "POST",
            "{add}",
            400,
            js(add | {"onDuplicate": value}),
            fields=("onDuplicate",),
        )
        for name, value in (
            ("unknown", "merge"),
            ("capitalised", "Update"),
            ("number", 1),
            ("null", None),
            ("list", ["update"]),
            ("long", "u" * 10_000),
        )
    ]
    rows += [
        upload_case(
            f"upload-on-duplicate-{name}",
            400,
            file_part(GOOD_CSV),
            (b'form-data; name="onDuplicate"', value),
            fields=("onDuplicate",),
        )
        for name, value in (
            ("unknown", b"merge"),
            ("nul", b"update\x00"),
            ("long", b"u" * 4096),
        )
    ]
    rows.append(
        upload_case(
            "upload-on-duplicate-file",
            400,
            file_part(GOOD_CSV),
            (b'form-data; name="onDuplicate"; filename="x.txt"', b"update"),
            # Refused by the form's own bound (one file part) before the field is read.
            says="files",
        )
    )
    rows += [
        Case(
            f"create-dedupe-key-{name}",
            "POST",
            create_path(index),
            400,
            js({"name": f"Dedupe {name}", "dedupeKey": value}),
            fields=("dedupeKey",),
        )
        for index, (name, value) in enumerate(
            (("unknown", "email"), ("number", 1), ("null", None), ("lowercase", "phonenumber"))
        )
    ]
    rows += [
        Case(
            "update-dedupe-key-unknown",
            "PUT",
            update_path(0),
            400,
            js({"dedupeKey": "email"}),
            fields=("dedupeKey",),
        ),
        # Kept has contacts: its dedupe key stays.
        Case(
            "update-dedupe-key-of-a-list-with-contacts",
            "PUT",
            update_path(1),
            409,
            js({"dedupeKey": "uniqueId"}),
            reason="conflict",
        ),
        Case("undo-other-accounts-job", "POST", "{v1}/jobs/{job}/undo", 404, other=True),
        Case(
            "undo-unknown-job",
            "POST",
            "{v2}/jobs/job-00000000-0000-4000-8000-000000000000/undo",
            404,
        ),
        Case("undo-job-id-sql", "POST", "{v2}/jobs/job-1'%20OR%20'1'='1/undo", 404),
        Case("undo-job-id-traversal", "POST", "{v1}/jobs/..%2F..%2Fjob/undo", 404),
        Case("undo-job-id-65", "POST", "{v2}/jobs/job-" + "a" * 61 + "/undo", 400),
        Case("undo-wrong-method", "GET", "{v1}/jobs/{job}/undo", 405, allow=frozenset({"POST"})),
        Case("undo-no-token", "POST", "{v2}/jobs/{job}/undo", 401, anonymous=True),
    ]
    return rows


CASES = [
    *body_cases(),
    *upload_cases(),
    *encoding_and_workbook_cases(),
    *path_and_query_cases(),
    *state_and_credential_cases(),
    *route_cases(),
    *list_field_cases(),
    *list_body_cases(),
    *list_name_taken_cases(),
    *query_rule_cases(),
    *field_rule_cases(),
    *contact_filter_cases(),
    *upsert_undo_cases(),
]


# The rows of each group when test_validation, test_limits and test_errors were merged into the
# table (208 rows came from test_hostile_inputs: the first four groups). A group may grow; a row
# taken out must go with a reason.
GROUP_SIZES = {
    body_cases: 128,
    upload_cases: 26,
    encoding_and_workbook_cases: 20,
    path_and_query_cases: 42,
    state_and_credential_cases: 12,
    route_cases: 79,  # test_errors 61, test_limits 18
    list_field_cases: 86,  # test_validation (87, less `listType: dnc`, a list type since)
    list_body_cases: 47,  # test_validation 24, test_limits 13, test_errors 10
    list_name_taken_cases: 13,  # test_validation
    query_rule_cases: 41,  # test_validation 32, test_limits 6, test_errors 3
    field_rule_cases: 7,  # test_limits
    contact_filter_cases: 58,  # search and filters on getAllContacts and export
    upsert_undo_cases: 23,
}


def test_the_table_keeps_every_case_and_its_ids_are_unique() -> None:
    for group, size in GROUP_SIZES.items():
        assert len(group()) >= size, group.__name__
    assert len(CASES) == sum(len(group()) for group in GROUP_SIZES) >= sum(GROUP_SIZES.values())
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)


# ---------------------------------------------------------------- the tenant's data


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # The app and the tenant's data are made once per module and backend: one event loop.
    return "asyncio"


@dataclass
class World:
    app: FastAPI
    client: AsyncClient
    tenant: Tenant
    list_id: str
    contact_id: str
    job_id: str
    campaign_id: str
    uploads: Path
    # A tenant of another account, and its list "Foreign".
    other: Tenant
    foreign_id: str
    # What the tenants could read after the last case (see `snapshot`).
    seen: dict[str, Any] = field(default_factory=dict)
    # The tenant's jobs, queued or ended, after the last case.
    jobs: int = 0

    def sender(self, case: Case) -> Tenant:
        return self.other if case.other else self.tenant

    def fill(self, case: Case) -> str:
        bot = self.sender(case).bot
        return case.path.format(
            v1=Paths("v1", bot).prefix,
            v2=Paths("v2", bot).prefix,
            add=ADD_CONTACTS.format(bot=bot),
            list=self.list_id,
            contact=self.contact_id,
            job=self.job_id,
            campaign=self.campaign_id,
            bot=bot,
            foreign=self.foreign_id,
        )

    async def run_jobs(self) -> int:
        """Run what is queued; how many jobs the two tenants have had in all.

        Theirs, not what the pool ran: other tests of this process share the database and may
        leave jobs of their own tenants queued.
        """
        await self.app.state.workers.run_until_idle()
        accounts = (self.tenant.account_id, self.other.account_id)
        async with self.app.state.sessionmaker() as session:
            query = select(func.count()).select_from(Job)
            found = await session.scalar(query.where(Job.account_id.in_(accounts)))
        return int(found or 0)


@pytest.fixture(scope="module")
async def world(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """An app with small limits, and a tenant with a list, contacts, a job and a campaign."""
    data_dir = tmp_path_factory.mktemp("hostile")
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        workers=0,
        normalise_processes=0,
        max_body_bytes=BODY_LIMIT,
        max_upload_bytes=UPLOAD_LIMIT,
        max_batch=BATCH_LIMIT,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        await cancel_leftover_jobs(app.state.sessionmaker)
        tenant = await TenantFactory(app).create()
        created = await create_list(client, tenant, "Kept", description="before")
        # Names that others fold to: "RENEWAL", "strasse", "STRAẞE".
        await create_list(client, tenant, "Renewal")
        await create_list(client, tenant, "Straße")
        other = await TenantFactory(app).create()
        foreign = await create_list(client, other, "Foreign", description="theirs")
        await create_list(client, other, "STRASSE")
        job_id = await add_contacts(
            client,
            tenant,
            "Kept",
            [
                {"phoneNumber": PHONE, "firstName": "Ann", "plan": "gold"},
                {"phoneNumber": "+12125550101", "lastName": "Bo"},
                {"phoneNumber": "not a number"},
            ],
        )
        await app.state.workers.run_until_idle()
        contacts = await all_contacts(client, tenant, created["_id"])
        voice = await create_campaign(client, tenant, campaign())
        world = World(
            app=app,
            client=client,
            tenant=tenant,
            list_id=created["_id"],
            contact_id=contacts[0]["_id"],
            job_id=job_id,
            campaign_id=voice["_id"],
            uploads=data_dir / "uploads",
            other=other,
            foreign_id=foreign["_id"],
        )
        world.seen = await snapshot(world)
        world.jobs = await world.run_jobs()
        assert len(world.seen["contacts"]["data"]["results"]) == 2
        yield world


async def snapshot(world: World) -> dict[str, Any]:
    """Everything the tenant can read about its data (every list, contact, job and campaign)."""
    tenant, client = world.tenant, world.client
    headers = tenant.headers()
    v1, v2 = Paths("v1", tenant.bot), Paths("v2", tenant.bot)
    campaigns = CampaignPaths("v2", tenant.bot)

    async def read(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", headers)
        response = await client.request(method, url, **kwargs)
        assert response.status_code == 200, f"{method} {url}: {response.text}"
        return response.json()

    return {
        "list": await read("GET", v2.list(world.list_id)),
        "lists": await read("GET", v1.get_all),
        "contacts": await read("GET", f"{v1.list(world.list_id)}/getAllContacts?limit=1000"),
        "job": await read("GET", f"{v1.prefix}/jobs/{world.job_id}"),
        "dnc lists": await read("GET", f"{v2.get_all}?type=dnc"),
        "voice campaigns": await read("POST", campaigns.get_all, json={"type": "voice"}),
        "sms campaigns": await read("POST", campaigns.get_all, json={"type": "sms"}),
        "other's lists": await read(
            "GET", Paths("v1", world.other.bot).get_all, headers=world.other.headers()
        ),
        "other's list": await read(
            "GET",
            Paths("v2", world.other.bot).list(world.foreign_id),
            headers=world.other.headers(),
        ),
    }


# ---------------------------------------------------------------- the test


async def send(world: World, case: Case) -> Response:
    headers = {} if case.anonymous else world.sender(case).headers()
    if case.content_type is not None and case.content is not None:
        headers["Content-Type"] = case.content_type
    headers.update(case.headers)
    content: Any = case.content
    if isinstance(content, Chunked):
        content = _chunks(content.content)
    return await world.client.request(
        case.method, world.fill(case), content=content, headers=headers
    )


async def _chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_a_bad_request_is_a_4xx_envelope_and_changes_nothing(
    world: World, case: Case
) -> None:
    response = await send(world, case)

    # Jobs run before the reads, so whatever a case set off shows in its own comparison;
    # compared with what the previous case left, so one failure does not fail the later ones.
    jobs = await world.run_jobs()
    queued, world.jobs = jobs - world.jobs, jobs
    before, after = world.seen, await snapshot(world)
    world.seen = after
    assert response.status_code == case.status, response.text[:500]
    reason = case.reason or REASONS[case.status]
    assert reason is not None
    errors = assert_failure(response, case.status, reason, CODES.get(case.status))
    if case.fields is not None:
        assert_validation_error(response, case.fields)
    if case.says is not None:
        assert case.says in errors[0]["msg"], errors
    if case.status == 405:
        allowed = {method.strip().upper() for method in response.headers["allow"].split(",")}
        assert case.method not in allowed, allowed
        assert case.allow <= allowed, allowed
    if case.exact is not None:
        assert response.json() == case.exact
    assert queued == 0, "a job was queued"
    assert files_under(world.uploads) == []
    assert after == before
