"""Signing a delivery: HMAC-SHA256 over "<timestamp>.<body>". Pure: no database, no network.

The key is not the app's client secret itself but derived from it: the receiver can check
signatures without holding the secret that signs API tokens, and nothing new is stored (app
secrets are stored as issued, `docs/security.md`). `webhook add` shows it.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Contactlists-Signature"
TIMESTAMP_HEADER = "X-Contactlists-Timestamp"
EVENT_ID_HEADER = "X-Contactlists-Event-Id"
EVENT_TYPE_HEADER = "X-Contactlists-Event-Type"
SIGNATURE_PREFIX = "sha256="
_KEY_LABEL = b"contactlists webhook signing key v1"


def signing_key(client_secret: str) -> str:
    """The app's webhook signing key: HMAC-SHA256 of a fixed label, keyed with its secret."""
    return hmac.new(client_secret.encode(), _KEY_LABEL, hashlib.sha256).hexdigest()


def signature(key: str, timestamp: str, body: bytes) -> str:
    """The header's value: "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def verify(key: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (``docs/security.md``): compare in constant time."""
    return hmac.compare_digest(signature(key, timestamp, body), header)
