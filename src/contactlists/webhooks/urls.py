"""Which URLs a webhook may have. Pure: the operator's input, checked before it is stored."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class WebhookInputError(ValueError):
    """A webhook could not be registered as asked; the message says why."""


def checked_url(url: str, *, allow_http: bool) -> str:
    """``url`` if a webhook may be sent to it; WebhookInputError saying why not otherwise.

    https only, unless ``allow_http`` (CONTACTLISTS_WEBHOOK_ALLOW_HTTP, for local setups):
    events must not cross a network in clear. No credentials in the URL (they would be
    shown by `webhook ls` and logged by proxies), no fragment, nothing invisible.
    """
    if len(url) > MAX_URL_LENGTH:
        raise WebhookInputError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if not url.isprintable() or any(char.isspace() for char in url) or not url.isascii():
        raise WebhookInputError(
            "the URL holds spaces, control or non-ASCII characters (percent-encode them)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number, or out of range, raises here
    except ValueError as exc:
        raise WebhookInputError(f"the URL is not valid: {exc}") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        hint = "" if allow_http else " (http only with CONTACTLISTS_WEBHOOK_ALLOW_HTTP=true)"
        raise WebhookInputError(f"the URL must start with https://{hint}")
    if parts.username is not None or parts.password is not None:
        raise WebhookInputError("the URL must not carry credentials (user:password@)")
    if not parts.hostname:
        raise WebhookInputError("the URL has no host")
    if port == 0:
        raise WebhookInputError("the URL's port must be between 1 and 65535")
    if parts.fragment or url.endswith("#"):
        raise WebhookInputError("the URL must not have a fragment (#…)")
    return url
