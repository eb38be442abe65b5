"""Which URLs a webhook may have: https (http only when allowed), bounded, no credentials."""

from __future__ import annotations

import pytest

from contactlists.webhooks.urls import MAX_URL_LENGTH, WebhookInputError, checked_url

GOOD = [
    "https://hooks.example.com/contactlists",
    "https://hooks.example.com:8443/a/b?c=d",
    "https://127.0.0.1/hook",
    "https://[::1]:9000/hook",
    "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/")),
]

BAD = [
    ("http://hooks.example.com/x", "https://"),
    ("ftp://hooks.example.com/x", "https://"),
    ("hooks.example.com/x", "https://"),
    ("", "https://"),
    ("javascript:alert(1)", "https://"),
    ("https://user:secret@hooks.example.com/x", "credentials"),
    ("https://user@hooks.example.com/x", "credentials"),
    ("https:///x", "no host"),
    ("https://hooks.example.com:99999/x", "not valid"),
    ("https://hooks.example.com:port/x", "not valid"),
    ("https://hooks.example.com:0/x", "port"),
    ("https://hooks.example.com/x#frag", "fragment"),
    ("https://hooks.example.com/x#", "fragment"),
    ("https://hooks.example.com/a b", "spaces"),
    ("https://hooks.example.com/\x00", "control"),
    ("https://hooks.example.com/\n", "spaces"),
    ("https://hööks.example.com/", "non-ASCII"),
    ("https://[::1/x", "not valid"),
    ("https://example.com/" + "a" * MAX_URL_LENGTH, "longer than"),
]


@pytest.mark.parametrize("url", GOOD)
def test_good_urls_are_accepted(url: str) -> None:
    assert checked_url(url, allow_http=False) == url


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_bad_urls_are_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(WebhookInputError, match=reason):
        checked_url(url, allow_http=False)


def test_http_only_when_allowed() -> None:
    url = "http://127.0.0.1:8080/hook"
    with pytest.raises(WebhookInputError, match="CONTACTLISTS_WEBHOOK_ALLOW_HTTP"):
        checked_url(url, allow_http=False)
    assert checked_url(url, allow_http=True) == url
    # Allowing http allows nothing else.
    with pytest.raises(WebhookInputError, match="https://"):
        checked_url("ftp://127.0.0.1/hook", allow_http=True)
    with pytest.raises(WebhookInputError, match="credentials"):
        checked_url("http://a:b@127.0.0.1/hook", allow_http=True)
