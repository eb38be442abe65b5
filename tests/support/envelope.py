"""Checks of the error envelope of CONTRACT §6, shared by the error and validation tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from httpx import Response

ENVELOPE_KEYS = ["status", "message", "errors"]


def assert_failure(response: Response, status: int, reason: str, code: int | None = None) -> Any:
    """Asserts ``response`` is the §6 envelope with ``status`` and ``reason``; its entries."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id"), "every response carries X-Request-Id"
    body = response.json()
    assert list(body) == ENVELOPE_KEYS, body
    assert body["status"] == "failure"
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors, "an error has at least one entry"
    for entry in errors:
        assert entry["code"] == (status if code is None else code), entry
        assert entry["reason"] == reason, entry
        assert isinstance(entry["msg"], str)
        assert entry["msg"].strip()
    return errors


def assert_validation_error(response: Response, fields: Iterable[str]) -> Any:
    """A 400 with exactly one entry per field of ``fields`` (a field may repeat)."""
    errors = assert_failure(response, 400, "validation_error")
    assert sorted(entry.get("field") for entry in errors) == sorted(fields), errors
    return errors
