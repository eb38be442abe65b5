"""What the SDK raises: one exception class per CONTRACT §6 ``reason``, under one base.

An answer with the error envelope becomes the class of its first entry's ``reason``; an
answer without it (a proxy's 502 page, say) becomes a plain :class:`APIError`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError as PydanticValidationError

from contactlists.errors import ErrorEntry, ErrorEnvelope, Reason


class ContactListsClientError(Exception):
    """The base of every exception the SDK raises."""


class APIConnectionError(ContactListsClientError):
    """The service could not be reached, or the connection broke before an answer came."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class WaitTimeout(ContactListsClientError, TimeoutError):
    """``jobs.wait`` gave up before the job finished; ``job`` is its last known state."""

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job


class APIError(ContactListsClientError):
    """The service answered with an error status.

    ``message`` is the envelope's sentence, ``errors`` its entries (one per problem, each with
    ``msg``, ``code``, ``reason`` and, where it concerns one input, ``field``), and
    ``request_id`` the ``X-Request-Id`` to quote when asking an operator about it.
    """

    reason: ClassVar[Reason | None] = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        errors: list[ErrorEntry] | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.errors = errors or []
        self.request_id = request_id
        self.response = response

    def __str__(self) -> str:
        shown = self.reason or "error"
        suffix = f", request {self.request_id}" if self.request_id else ""
        return f"{self.message} ({self.status_code} {shown}{suffix})"


class InvalidCredentialsError(APIError):
    """401: the token is missing, malformed, expired, or signed with the wrong secret."""

    reason = "invalid_credentials"


class ForbiddenError(APIError):
    """403: the app lacks the scope, may not use the bot, or iid/accountId do not match."""

    reason = "forbidden"


class ValidationFailedError(APIError):
    """400: the request is malformed; ``errors`` names each problem and its ``field``."""

    reason = "validation_error"


class NotFoundError(APIError):
    """404: no such list, contact, job or campaign for this account and bot."""

    reason = "not_found"


class MethodNotAllowedError(APIError):
    reason = "method_not_allowed"


class DuplicateNameError(APIError):
    """409: another list or campaign of the bot has this name (case-insensitively)."""

    reason = "duplicate_name"


class ListInUseError(APIError):
    """409: campaigns reference the list; ``campaign_in_use`` names them."""

    reason = "list_in_use"

    @property
    def campaign_in_use(self) -> list[dict[str, str]]:
        named: list[dict[str, str]] = []
        for entry in self.errors:
            named.extend((entry.model_extra or {}).get("campaignInUse", []))
        return named


class InvalidStateError(APIError):
    """409: the campaign's status does not allow this transition."""

    reason = "invalid_state"


class ConflictError(APIError):
    """409: not possible in the present state (an import that cannot be undone, a dedupe key
    that cannot change)."""

    reason = "conflict"


class RequestTimeoutError(APIError):
    reason = "request_timeout"


class PayloadTooLargeError(APIError):
    reason = "payload_too_large"


class UnsupportedMediaTypeError(APIError):
    reason = "unsupported_media_type"


class RateLimitedError(APIError):
    """429: over the account's requests per minute; ``retry_after`` is the wait in seconds."""

    reason = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.response) if self.response is not None else None


class ServiceUnavailableError(APIError):
    """503: the service cannot reach its database just now; nothing was changed."""

    reason = "service_unavailable"


class InternalServerError(APIError):
    """500: the service failed; its log has the details under ``request_id``."""

    reason = "internal_error"


ERROR_CLASSES: dict[Reason, type[APIError]] = {
    cls.reason: cls
    for cls in (
        InvalidCredentialsError,
        ForbiddenError,
        ValidationFailedError,
        NotFoundError,
        MethodNotAllowedError,
        DuplicateNameError,
        ListInUseError,
        InvalidStateError,
        ConflictError,
        RequestTimeoutError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        RateLimitedError,
        ServiceUnavailableError,
        InternalServerError,
    )
    if cls.reason is not None
}


# Classes for answers without our envelope (Kore.ai's own `{"errors": [{"msg", "code"}]}`, a
# proxy's page), by status. 409 is left out: it is a taken name, a list in use, a campaign
# transition or a conflict, which only the envelope's reason tells apart.
STATUS_CLASSES: dict[int, type[APIError]] = {
    400: ValidationFailedError,
    401: InvalidCredentialsError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    408: RequestTimeoutError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitedError,
    500: InternalServerError,
    503: ServiceUnavailableError,
}


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer: by its envelope's reason, else by its status."""
    request_id = response.headers.get("x-request-id")
    envelope = _envelope(response)
    if envelope is None or not envelope.errors:
        error_class = STATUS_CLASSES.get(response.status_code, APIError)
        return error_class(
            f"HTTP {response.status_code}: {_foreign_message(response)}",
            status_code=response.status_code,
            request_id=request_id,
            response=response,
        )
    error_class = ERROR_CLASSES.get(envelope.errors[0].reason, APIError)
    return error_class(
        envelope.message,
        status_code=response.status_code,
        errors=envelope.errors,
        request_id=request_id,
        response=response,
    )


def _foreign_message(response: httpx.Response) -> str:
    """One line from an error body that is not our envelope."""
    fallback = response.reason_phrase or "error"
    if "html" in response.headers.get("content-type", ""):
        return fallback  # an error page: its markup says nothing a line could
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(body.get("message"), str) and body["message"]:
            return str(body["message"])
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            msg = errors[0].get("msg")
            if isinstance(msg, str) and msg:
                return msg
    text = response.text.strip()
    return text.splitlines()[0][:200] if text else fallback


def _envelope(response: httpx.Response) -> ErrorEnvelope | None:
    try:
        return ErrorEnvelope.model_validate(response.json())
    except (json.JSONDecodeError, UnicodeDecodeError, PydanticValidationError):
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
