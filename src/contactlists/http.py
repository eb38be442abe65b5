"""Rendering every error as the envelope of CONTRACT §6, and the X-Request-Id header.

Known errors go through :func:`install_error_handlers`; anything unexpected is caught
by :class:`RequestIdMiddleware`, which sits inside Starlette's own error middleware
so that even a 500 carries the envelope and the request id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactlists.db import unavailable
from contactlists.errors import (
    ContactListsError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from contactlists.wire import validation_failure

log = logging.getLogger("contactlists.http")

REQUEST_ID_HEADER = "x-request-id"
SHUTTING_DOWN = "The service is shutting down; try again shortly."
# The scope's state holds this (True) when the client left before its request was read; the
# access log and the metrics then count the request as 499 (nginx's "client closed request").
CLIENT_CLOSED = "client_closed"
CLIENT_CLOSED_STATUS = 499
# Echo a client's id only when it is short and plain, so it cannot forge log lines.
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def error_response(
    error: ContactListsError,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    body = error.envelope().model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=error.status_code, headers=headers)


async def _known_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContactListsError)
    return error_response(exc, headers=exc.headers())


async def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = []
    for error in exc.errors():
        # FastAPI prefixes locations with where the value came from: query, path, header, body.
        loc = tuple(error.get("loc", ()))
        errors.append({**error, "loc": loc[1:] if len(loc) > 1 else loc})
    return error_response(validation_failure(errors) if errors else ValidationFailed())


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: ContactListsError
    if exc.status_code == 404:
        error = NotFound("No such route.")
    elif exc.status_code == 405:
        error = MethodNotAllowed()
        headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
        return error_response(error, headers=headers)
    elif exc.status_code == 413:
        error = PayloadTooLarge()
    elif exc.status_code < 500:
        error = ValidationFailed(str(exc.detail))
    else:
        error = InternalError()
    # Keeps Starlette's headers, such as Allow on a 405.
    return error_response(error, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ContactListsError, _known_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class RequestIdMiddleware:
    """Gives every response an ``X-Request-Id`` and turns an unexpected failure into a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # An outer middleware (observability) may have chosen it already, for its log lines.
        request_id = state.get("request_id") or request_id_of(scope)
        state["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client closed the connection before its body was read: nobody to answer and
            # no fault of ours. No traceback; the access line and metrics count it as 499.
            state[CLIENT_CLOSED] = True
        except Exception as exc:
            error = _unexpected(exc, request_id)
            if started:
                raise
            response = error_response(error, request_id)
            await response(scope, receive, send)
        except asyncio.CancelledError:
            # The server is stopping and its grace period is over: it cancels what is still
            # running. The client gets the envelope (503, try again) instead of the server's
            # plain-text 500, then the cancellation goes on.
            if not started:
                response = error_response(ServiceUnavailable(SHUTTING_DOWN), request_id)
                await response(scope, receive, send)
            raise


def _unexpected(exc: Exception, request_id: str) -> ContactListsError:
    """A 503 when the database is away or too slow (not a bug: no traceback), else a 500."""
    if unavailable.is_unavailable(exc):
        log.warning(
            "database unavailable: %s", unavailable.describe(exc), extra={"request_id": request_id}
        )
        return ServiceUnavailable()
    log.exception("unhandled error", extra={"request_id": request_id})
    return InternalError()


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-Id when it is safe to echo, else a new one."""
    for key, value in scope.get("headers", []):
        if key == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1")
            if CLIENT_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex
