"""Every error reason of CONTRACT §6 raises its own exception class, with the envelope's details.

The service produces most of them on cue; the ones it cannot be made to answer through the SDK
(a wrong method or content type, which the SDK never sends; rate limits, which the service does
not apply yet; an internal error) come from a fake answering the contract's envelope.
"""

from __future__ import annotations

import dataclasses
import time
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import contactlists.client as sdk
from contactlists.apps.service import SCOPE_READ
from contactlists.client import (
    APIError,
    Client,
    ConflictError,
    ContactListsClientError,
    DuplicateNameError,
    ForbiddenError,
    InternalServerError,
    InvalidCredentialsError,
    InvalidStateError,
    ListInUseError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from contactlists.client._errors import ERROR_CLASSES
from contactlists.errors import Reason
from contactlists.tokens import mint_token
from tests.support.campaigns import voice_body
from tests.support.durable import service_settings
from tests.support.live import LiveService
from tests.support.processes import Process, start_serve
from tests.support.sdk import LIST_ID, Recorder, envelope, people

UNKNOWN_LIST = "cl-00000000-0000-4000-8000-00000000dead"

# ---------------------------------------------------------------- one class per reason


def test_every_reason_has_its_own_exported_class() -> None:
    reasons = typing.get_args(Reason)

    assert set(ERROR_CLASSES) == set(reasons)
    classes = [ERROR_CLASSES[reason] for reason in reasons]
    assert len(set(classes)) == len(reasons)
    for reason, error_class in zip(reasons, classes, strict=True):
        assert error_class.reason == reason
        assert issubclass(error_class, APIError)
        assert issubclass(error_class, ContactListsClientError)
        assert getattr(sdk, error_class.__name__) is error_class
        assert error_class.__name__ in sdk.__all__


EXPECTED = {
    "invalid_credentials": (401, InvalidCredentialsError),
    "forbidden": (403, ForbiddenError),
    "validation_error": (400, ValidationFailedError),
    "not_found": (404, NotFoundError),
    "method_not_allowed": (405, MethodNotAllowedError),
    "duplicate_name": (409, DuplicateNameError),
    "list_in_use": (409, ListInUseError),
    "invalid_state": (409, InvalidStateError),
    "conflict": (409, ConflictError),
    "payload_too_large": (413, PayloadTooLargeError),
    "request_timeout": (408, RequestTimeoutError),
    "unsupported_media_type": (415, UnsupportedMediaTypeError),
    "rate_limited": (429, RateLimitedError),
    "service_unavailable": (503, ServiceUnavailableError),
    "internal_error": (500, InternalServerError),
}


def test_the_table_below_covers_every_reason() -> None:
    assert set(EXPECTED) == set(typing.get_args(Reason))


@pytest.mark.parametrize("reason", sorted(EXPECTED))
def test_each_reason_in_an_envelope_raises_its_class(reason: str) -> None:
    status, error_class = EXPECTED[reason]
    fake = Recorder([envelope(status, reason, "The sentence.", field="name")])

    with fake.client(max_retries=0, retry=None) as api, pytest.raises(APIError) as raised:
        api.lists.create("Anything")

    error = raised.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.message == "The sentence."
    assert [(entry.reason, entry.field, entry.msg) for entry in error.errors] == [
        (reason, "name", "The sentence.")
    ]
    assert error.request_id == f"req-{reason}"
    assert str(error) == f"The sentence. ({status} {reason}, request req-{reason})"
    assert error.response is not None


@pytest.mark.parametrize(
    ("status", "reason"),
    [(405, "method_not_allowed"), (415, "unsupported_media_type"), (500, "internal_error")],
)
def test_reasons_the_sdk_cannot_provoke_are_not_retried_on_a_get(status: int, reason: str) -> None:
    fake = Recorder([envelope(status, reason)])
    with fake.client() as api, pytest.raises(EXPECTED[reason][1]):
        api.lists.get(LIST_ID)
    assert len(fake.requests) == 1


def test_a_rate_limit_tells_how_long_to_wait() -> None:
    limited = envelope(429, "rate_limited")
    limited.headers["Retry-After"] = "17"
    fake = Recorder([limited])
    with fake.client(max_retries=0, retry=None) as api, pytest.raises(RateLimitedError) as raised:
        api.lists.list()
    assert raised.value.retry_after == 17.0


def test_a_rate_limit_may_give_its_wait_as_an_http_date() -> None:
    limited = envelope(429, "rate_limited")
    limited.headers["Retry-After"] = time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30)
    )
    fake = Recorder([limited])
    with fake.client(max_retries=0, retry=None) as api, pytest.raises(RateLimitedError) as raised:
        api.lists.list()
    assert raised.value.retry_after is not None
    assert 25 <= raised.value.retry_after <= 31


def test_an_error_page_without_an_envelope_is_a_plain_api_error_with_its_status() -> None:
    page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>"
    fake = Recorder([httpx.Response(502, text=page, headers={"content-type": "text/html"})])

    with fake.client() as api, pytest.raises(APIError) as raised:
        api.lists.create("Behind a proxy")

    error = raised.value
    assert type(error) is APIError
    assert error.status_code == 502
    assert error.errors == []
    assert error.message == "HTTP 502: Bad Gateway"
    assert error.request_id is None


def test_json_that_is_not_the_envelope_is_classed_by_its_status() -> None:
    fake = Recorder([httpx.Response(400, json={"detail": "nope"})])
    with fake.client() as api, pytest.raises(ValidationFailedError) as raised:
        api.lists.create("Elsewhere")
    assert raised.value.status_code == 400
    assert raised.value.errors == []
    assert "nope" in raised.value.message


@pytest.mark.parametrize(
    ("status", "body", "expected", "message"),
    [
        (
            401,
            {"errors": [{"msg": "Invalid SDK credentials", "code": 4002}]},
            InvalidCredentialsError,
            "Invalid SDK credentials",
        ),
        (
            400,
            {"errors": [{"msg": "Invalid StreamId", "code": 400}]},
            ValidationFailedError,
            "Invalid StreamId",
        ),
        (
            405,
            {"errors": [{"msg": "Method Not Allowed", "code": 405}]},
            MethodNotAllowedError,
            "Method Not Allowed",
        ),
        (
            404,
            {"status": "failure", "message": "Contact list not found"},
            NotFoundError,
            "Contact list not found",
        ),
        (
            409,
            {"status": "failure", "message": "Name already exists"},
            APIError,
            "Name already exists",
        ),
    ],
)
def test_kore_ai_error_bodies_are_classed_by_status_and_keep_their_message(
    status: int, body: dict[str, object], expected: type[APIError], message: str
) -> None:
    """Kore.ai's platform errors carry no reason (reference/kore-docs-notes.md §2)."""
    fake = Recorder([httpx.Response(status, json=body)])
    with fake.client() as api, pytest.raises(APIError) as raised:
        api.lists.create("On Kore.ai")
    assert type(raised.value) is expected
    assert raised.value.message == f"HTTP {status}: {message}"


def test_an_empty_error_answer_is_named_by_its_status() -> None:
    fake = Recorder([httpx.Response(418)])
    with fake.client() as api, pytest.raises(APIError) as raised:
        api.lists.create("Teapot")
    assert raised.value.message == "HTTP 418: I'm a teapot"


def test_a_success_of_an_unexpected_shape_is_an_api_error() -> None:
    fake = Recorder([httpx.Response(200, text="<html>maintenance</html>")])
    with fake.client() as api, pytest.raises(APIError, match="unexpected answer to GET"):
        api.lists.get(LIST_ID)


# ---------------------------------------------------------------- the real service


def test_a_wrong_secret_is_invalid_credentials(live: LiveService) -> None:
    tenant = live.tenant()
    with (
        Client(
            tenant.base_url, bot=tenant.bot, client_id=tenant.client_id, client_secret="x" * 43
        ) as api,
        pytest.raises(InvalidCredentialsError) as raised,
    ):
        api.lists.list()

    error = raised.value
    assert error.status_code == 401
    assert error.errors[0].code == 4002
    assert error.errors[0].msg == "Invalid SDK credentials"
    assert error.request_id
    assert error.response is not None
    assert error.response.headers["x-request-id"] == error.request_id
    assert error.request_id in str(error)


@pytest.mark.parametrize("kind", ["expired", "garbage"])
def test_a_bad_static_token_is_invalid_credentials(live: LiveService, kind: str) -> None:
    tenant = live.tenant()
    if kind == "expired":
        # Expired an hour ago: well past the service's leeway.
        token = mint_token(
            tenant.client_id, tenant.client_secret, expires_in=3600, now=time.time() - 7200
        )
    else:
        token = "not-a-jwt"
    with (
        Client(tenant.base_url, bot=tenant.bot, token=token) as api,
        pytest.raises(InvalidCredentialsError),
    ):
        api.lists.create("Never")


def test_a_read_only_app_may_read_but_writing_is_forbidden(live: LiveService) -> None:
    tenant = live.tenant(scopes=[SCOPE_READ])
    with tenant.client() as api:
        assert api.lists.list() == []
        with pytest.raises(ForbiddenError) as raised:
            api.lists.create("Not mine to make")
        assert raised.value.status_code == 403
        assert raised.value.errors[0].code == 4003
        with pytest.raises(ForbiddenError):
            api.contacts.add("Whatever", people(1))
        # Still nothing there.
        assert api.lists.list() == []


def test_another_account_is_forbidden(live: LiveService) -> None:
    tenant = live.tenant()
    elsewhere = dataclasses.replace(tenant, account_id="f" * 24)
    with elsewhere.client() as api, pytest.raises(ForbiddenError):
        api.lists.list()


def test_validation_errors_name_each_field(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        with pytest.raises(ValidationFailedError) as raised:
            api.lists.create("x" * 49)
        assert raised.value.status_code == 400
        assert [entry.field for entry in raised.value.errors] == ["name"]

        with pytest.raises(ValidationFailedError) as raised:
            api.lists.create("   ")
        assert [entry.field for entry in raised.value.errors] == ["name"]

        with pytest.raises(ValidationFailedError) as raised:
            api.campaigns.create(voice_body("Nothing to call", ["No such list"], priority="9"))
        fields = {entry.field for entry in raised.value.errors}
        assert {"priority"} <= fields
        assert all(entry.reason == "validation_error" for entry in raised.value.errors)


def test_unknown_ids_and_names_are_not_found(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        for attempt in (
            lambda: api.lists.get(UNKNOWN_LIST),
            lambda: api.lists.delete(UNKNOWN_LIST),
            lambda: api.contacts.add("No such list", people(1)),
            lambda: api.jobs.get("job-00000000-0000-4000-8000-000000000000"),
            lambda: api.campaigns.get("cd-00000000-0000-4000-8000-000000000000"),
        ):
            with pytest.raises(NotFoundError) as raised:
                attempt()
            assert raised.value.status_code == 404
            assert raised.value.errors[0].reason == "not_found"


def test_another_tenants_list_is_not_found(live: LiveService) -> None:
    owner, stranger = live.tenant(), live.tenant()
    with owner.client() as mine:
        created = mine.lists.create("Private")
    with (
        Client(
            stranger.base_url,
            bot=owner.bot,
            client_id=stranger.client_id,
            client_secret=stranger.client_secret,
        ) as theirs,
        pytest.raises(ForbiddenError),
    ):
        # Their app may not even use the owner's bot.
        theirs.lists.get(created.id)
    with stranger.client() as theirs, pytest.raises(NotFoundError):
        theirs.lists.get(created.id)


def test_a_taken_name_is_a_duplicate_in_any_case(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Renewals")
        with pytest.raises(DuplicateNameError) as raised:
            api.lists.create("RENEWALS")
        assert raised.value.status_code == 409
        other = api.lists.create("Other")
        with pytest.raises(DuplicateNameError):
            api.lists.update(other.id, name="renewals")


def test_a_list_in_use_names_its_campaigns(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        used = api.lists.create("Used")
        first = api.campaigns.create(voice_body("First", ["Used"]))
        second = api.campaigns.create(voice_body("Second", ["Used"]))

        with pytest.raises(ListInUseError) as raised:
            api.lists.delete(used.id)

        error = raised.value
        assert error.status_code == 409
        assert sorted(error.campaign_in_use, key=lambda c: c["name"]) == [
            {"id": first.id, "name": "First"},
            {"id": second.id, "name": "Second"},
        ]
        assert "First" in error.message
        assert api.lists.get(used.id).isListInUse


def test_a_transition_not_allowed_is_an_invalid_state(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Calls")
        campaign = api.campaigns.create(voice_body("Idle", ["Calls"]))
        with pytest.raises(InvalidStateError) as raised:
            api.campaigns.pause(campaign.id)
        assert raised.value.status_code == 409
        assert api.campaigns.status(campaign.id).status == "Ready"


@pytest.fixture
def small_limits(live: LiveService, tmp_path: Path) -> Iterator[Process]:
    """A second server on the live database whose bodies and uploads may be 1 KiB at most."""
    settings = service_settings(tmp_path, max_body_bytes=1024, max_upload_bytes=1024, workers=0)
    server = start_serve(live.database_url, tmp_path / "small.log", settings)
    try:
        yield server
    finally:
        server.stop()


def test_bodies_and_files_over_the_limit_are_payload_too_large(
    live: LiveService, small_limits: Process
) -> None:
    tenant = live.tenant()
    at_small = dataclasses.replace(tenant, base_url=small_limits.base_url)
    with at_small.client() as api:
        created = api.lists.create("Small")
        with pytest.raises(PayloadTooLargeError) as raised:
            api.contacts.add("Small", people(40))
        assert raised.value.status_code == 413

        rows = "phoneNumber\r\n" + "".join(f"+1415555{n:04d}\r\n" for n in range(100))
        with pytest.raises(PayloadTooLargeError):
            api.contacts.upload(created.id, rows.encode())
        assert api.lists.get(created.id).totalRecordCount == 0
