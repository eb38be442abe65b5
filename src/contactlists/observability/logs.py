"""Log lines as one JSON object per line (or as text), carrying what they are about.

Every line has ``timestamp``, ``level``, ``logger`` and ``message``; lines written while a
request is handled also carry its ``request_id`` and, once the caller's token was verified,
the ``app`` (clientId) and ``account`` (accountId); lines of a job carry its ``job`` id. The
request's access line adds ``method``, ``route``, ``path``, ``status`` and ``duration_ms``.

Nothing here reads headers or bodies: a line holds only the fields named in
:data:`EXTRA_FIELDS` and the context, so a token or a secret cannot reach the log through it.

The context lives in a :class:`LogContext` that the request middleware (or the job worker)
binds in a context variable; the auth dependency fills in the caller. It is one mutable
object, so what a dependency writes is seen by the middleware whatever task ran it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TextIO

LogFormat = Literal["auto", "json", "text"]
CONTEXT_FIELDS = ("request_id", "app", "account", "job")
# The only attributes a record may add to a line (through logging's ``extra``).
EXTRA_FIELDS = ("method", "route", "path", "status", "duration_ms", "client", "kind", "state")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers kept at WARNING whatever the service's level: alembic's INFO lines are noise for an
# operator, and aiosqlite logs every statement with its bound values at DEBUG (contacts' data,
# and an app's secret when one is created).
QUIET_LOGGERS = ("alembic", "aiosqlite")


@dataclass
class LogContext:
    request_id: str | None = None
    app: str | None = None
    account: str | None = None
    job: str | None = None


_current: ContextVar[LogContext | None] = ContextVar("contactlists_log_context", default=None)


def current() -> LogContext | None:
    return _current.get()


@contextmanager
def bound(context: LogContext) -> Iterator[LogContext]:
    """``context`` is what log lines written meanwhile (in this task and its children) are about."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def note_caller(client_id: str, account_id: str) -> None:
    """The request's token was verified: its lines name the app and the account from now on."""
    context = _current.get()
    if context is not None:
        context.app = client_id
        context.account = account_id


def _context_of(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields of a line: the record's own (``extra``) first, then the bound context."""
    bound_context = _current.get()
    fields: dict[str, Any] = {}
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is None and bound_context is not None:
            value = getattr(bound_context, name)
        if value is not None:
            fields[name] = value
    return fields


def _timestamp(created: float) -> str:
    moment = dt.datetime.fromtimestamp(created, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context_of(record))
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request_id=… app=… account=…]`` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = _context_of(record)
        if context:
            line += " [" + " ".join(f"{name}={value}" for name, value in context.items()) + "]"
        return line


def resolve_format(log_format: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    """``auto``: text on a terminal, JSON otherwise (a service manager, a container, a file)."""
    if log_format == "auto":
        return "text" if stream.isatty() else "json"
    return log_format


def configure(level: str, log_format: LogFormat, stream: TextIO | None = None) -> None:
    """Send every logger's lines (uvicorn's included) to ``stream`` (stderr), formatted."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    chosen = resolve_format(log_format, stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's lines go through the root handler, in the same format as ours.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
