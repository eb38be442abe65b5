"""The one exception hierarchy of the service, and the error envelope of CONTRACT §6.

Business code raises these; one handler (``contactlists.http``) renders them. This
module imports only pydantic, so the SDK can share the reasons and the envelope.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

Reason = Literal[
    "invalid_credentials",
    "forbidden",
    "validation_error",
    "not_found",
    "method_not_allowed",
    "duplicate_name",
    "list_in_use",
    "invalid_state",
    "conflict",
    "request_timeout",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "service_unavailable",
    "internal_error",
]


class ErrorEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    msg: str
    code: int
    reason: Reason
    field: str | None = None


class ErrorEnvelope(BaseModel):
    status: Literal["failure"] = "failure"
    message: str
    errors: list[ErrorEntry]


class Problem:
    """One problem with a request: a message and, when it concerns one input, its field."""

    __slots__ = ("extra", "field", "msg")

    def __init__(self, msg: str, field: str | None = None, **extra: Any) -> None:
        self.msg = msg
        self.field = field
        self.extra = extra


class ContactListsError(Exception):
    status_code: ClassVar[int] = 500
    # The envelope's `code`: the HTTP status, except where Kore.ai uses its own (4002, 4003).
    code: ClassVar[int] = 500
    reason: ClassVar[Reason] = "internal_error"
    default_message: ClassVar[str] = "An unexpected error occurred."

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "code" not in cls.__dict__:
            cls.code = cls.status_code

    def __init__(
        self, message: str | None = None, *, problems: list[Problem] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.problems = problems or [Problem(self.message)]
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the envelope."""
        return {}

    def envelope(self) -> ErrorEnvelope:
        entries = [
            ErrorEntry(msg=p.msg, code=self.code, reason=self.reason, field=p.field, **p.extra)
            for p in self.problems
        ]
        return ErrorEnvelope(message=self.message, errors=entries)


class InvalidCredentials(ContactListsError):
    status_code = 401
    code = 4002
    reason = "invalid_credentials"
    # Kore.ai's exact text; clients may match on it.
    default_message = "Invalid SDK credentials"


class Forbidden(ContactListsError):
    status_code = 403
    code = 4003
    reason = "forbidden"
    default_message = "This app may not perform this request."


# The most entries one error envelope lists; its message gives the whole count.
MAX_PROBLEMS_LISTED = 100


class ValidationFailed(ContactListsError):
    status_code = 400
    reason = "validation_error"
    default_message = "The request is invalid."

    @classmethod
    def of(cls, problems: list[Problem]) -> ValidationFailed:
        """One error for ``problems``, listing at most ``MAX_PROBLEMS_LISTED`` of them.

        The message counts them all: a body with a million bad values gets an answer of a
        few kilobytes, not one entry per value.
        """
        if len(problems) == 1:
            return cls(problems[0].msg, problems=problems)
        listed = problems[:MAX_PROBLEMS_LISTED]
        more = f" (the first {len(listed)} are listed)" if len(problems) > len(listed) else ""
        return cls(
            f"The request has {len(problems)} problems{more}: {problems[0].msg} …",
            problems=listed,
        )

    @classmethod
    def field(cls, field: str, msg: str) -> ValidationFailed:
        return cls(msg, problems=[Problem(msg, field)])


class NotFound(ContactListsError):
    status_code = 404
    reason = "not_found"
    default_message = "Not found."


class MethodNotAllowed(ContactListsError):
    status_code = 405
    reason = "method_not_allowed"
    default_message = "Method Not Allowed"


class DuplicateName(ContactListsError):
    status_code = 409
    reason = "duplicate_name"
    default_message = "The name is already taken."


class ListInUse(ContactListsError):
    """A campaign references the list; the entry names them (``campaignInUse``), as reads do."""

    status_code = 409
    reason = "list_in_use"
    default_message = "The contact list is in use by a campaign."

    def __init__(self, name: str, campaigns: list[dict[str, str]]) -> None:
        names = ", ".join(campaign["name"] for campaign in campaigns)
        message = f"Contact list {name} is in use by campaign(s) {names} and cannot be deleted"
        super().__init__(message, problems=[Problem(message, campaignInUse=campaigns)])


class InvalidState(ContactListsError):
    """A campaign transition the status machine does not allow (CONTRACT §5)."""

    status_code = 409
    reason = "invalid_state"
    default_message = "The campaign cannot make this transition in its current status."


class Conflict(ContactListsError):
    """The request cannot be done in the resource's present state (an import not finished, a
    list's dedupe key on a list with contacts)."""

    status_code = 409
    reason = "conflict"
    default_message = "The request conflicts with the present state of the resource."


class RequestTimeout(ContactListsError):
    status_code = 408
    reason = "request_timeout"
    default_message = "The request body did not arrive in time."


class PayloadTooLarge(ContactListsError):
    status_code = 413
    reason = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ContactListsError):
    status_code = 415
    reason = "unsupported_media_type"
    default_message = "The request body must be JSON (Content-Type: application/json)."


class RateLimited(ContactListsError):
    """Over the account's requests per minute (CONTACTLISTS_RATE_LIMIT_PER_MINUTE)."""

    status_code = 429
    reason = "rate_limited"
    # Kore.ai's per-minute text; clients may match on it.
    default_message = (
        "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
    )

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        # RFC 9110 §10.2.3: whole seconds until the window frees a slot.
        return {"Retry-After": str(self.retry_after_seconds)}


class ServiceUnavailable(ContactListsError):
    """The database cannot be reached or answers too slowly, or the server is stopping.

    The request's transaction was rolled back, unless the database went away while committing
    it: a write answered 503 happened once or not at all.
    """

    status_code = 503
    reason = "service_unavailable"
    default_message = "The service is temporarily unavailable; try again shortly."


class InternalError(ContactListsError):
    pass
