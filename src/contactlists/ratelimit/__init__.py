"""The per-account request rate limit (CONTRACT §6: 429 ``rate_limited`` with ``Retry-After``)."""
