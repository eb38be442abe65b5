"""The signature recipe of docs/security.md accepts what the service signs, and only that."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from contactlists.webhooks.delivery import Outcome, body_of, send
from contactlists.webhooks.repository import Claimed
from contactlists.webhooks.signing import signature, signing_key, verify

SECRET = "s3cret-of-the-app"


def recipe(repo_root: Path) -> Callable[[dict[str, str], bytes], bytes]:
    """The receiver's function from docs/security.md, with this test's signing key."""
    text = (repo_root / "docs" / "security.md").read_text()
    match = re.search(r"```python\n(.*?def verified_event.*?)```", text, re.DOTALL)
    assert match, "docs/security.md lost its verification recipe"
    namespace: dict[str, Any] = {}
    exec(match[1].replace('"…"', repr(signing_key(SECRET))), namespace)
    verified: Callable[[dict[str, str], bytes], bytes] = namespace["verified_event"]
    return verified


def signed(body: bytes, at: float) -> dict[str, str]:
    timestamp = str(int(at))
    return {
        "X-Contactlists-Timestamp": timestamp,
        "X-Contactlists-Signature": signature(signing_key(SECRET), timestamp, body),
    }


def a_delivery(**data: str) -> Claimed:
    return Claimed(
        account_id="a" * 24,
        id="whd-1",
        hook_id="wh-1",
        event_id="evt-1",
        event_type="list.deleted",
        event_at=datetime(2026, 12, 5, 10, 0, 0, 123000, tzinfo=UTC),
        data={"contactListId": "cl-1", "botId": "st-1", **data},
        attempts=1,
        url="https://h.example/",
        client_secret=SECRET,
    )


def test_the_documented_recipe_checks_what_the_service_signs(repo_root: Path) -> None:
    verified = recipe(repo_root)
    body = body_of(a_delivery(name="Ünïcode"))
    assert body.startswith(
        b'{"id":"evt-1","type":"list.deleted","createdAt":"2026-12-05T10:00:00.123Z"'
    )
    now = time.time()
    assert verified(signed(body, now), body) == body

    with pytest.raises(ValueError, match="bad signature"):
        verified(signed(body, now), body.replace(b"cl-1", b"cl-2"))
    tampered = signed(body, now)
    tampered["X-Contactlists-Timestamp"] = str(int(now) + 1)  # the timestamp is signed too
    with pytest.raises(ValueError, match="bad signature"):
        verified(tampered, body)
    with pytest.raises(ValueError, match="stale"):
        verified(signed(body, now - 3600), body)


def test_the_key_is_derived_from_the_secret_and_differs_per_app() -> None:
    assert signing_key(SECRET) == signing_key(SECRET)
    assert signing_key(SECRET) != signing_key(SECRET + "x")
    assert SECRET not in signing_key(SECRET)
    header = signature(signing_key(SECRET), "1", b"{}")
    assert verify(signing_key(SECRET), "1", b"{}", header)
    assert not verify(signing_key("other"), "1", b"{}", header)


def test_every_body_encodes_whatever_its_strings_hold() -> None:
    for name in ("Ünïcode", "\ud800 lone surrogate", "\x00"):
        body = body_of(a_delivery(name=name))
        assert body.isascii()
        assert json.loads(body)["data"]["name"] == name


@pytest.mark.anyio
async def test_a_try_that_breaks_unexpectedly_is_a_failed_try_not_a_lost_round() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug in the transport")

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as http:
        outcome = await send(http, a_delivery(name="x"), timeout=1)
    assert outcome == Outcome(None, "RuntimeError")
    assert not outcome.acknowledged
