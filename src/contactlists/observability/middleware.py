"""One pure ASGI middleware: time each request, count it, write its access-log line.

It is the outermost of the app's own middlewares, so the status it records is the one the
client gets: the error envelopes, the 500 that :class:`~contactlists.http.RequestIdMiddleware`
makes of an unexpected exception, and the answers of any middleware inside it. A pure ASGI
middleware (not Starlette's ``BaseHTTPMiddleware``) adds no task per request and leaves
streamed responses (exports) streaming.

Requests are labelled by their route's path template (``/…/contactList/{list_id}``), never
by the raw path, so the number of series stays bounded whatever clients send.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactlists.http import CLIENT_CLOSED, CLIENT_CLOSED_STATUS, request_id_of
from contactlists.observability import logs
from contactlists.observability.metrics import UNMATCHED_ROUTE, Metrics

access_log = logging.getLogger("contactlists.access")

MAX_LOGGED_PATH = 300


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        # The app's top-level routes (the live list): plain Starlette routes and mounts
        # (/openapi.json, /metrics, the docs' assets) are found here, see route_template.
        self.routes = routes

    def route_template(self, scope: Scope, root_path: str) -> str:
        """The path template of the route that answered, or ``unmatched``.

        FastAPI's own routes leave themselves in ``scope["route"]``; plain Starlette routes
        and mounts do not, so those are matched again against the original path.
        """
        route: Any = scope.get("route")
        template = getattr(route, "path_format", None)
        if isinstance(template, str):
            return template
        probe = {"type": "http", "path": scope["path"], "root_path": root_path, "method": "GET"}
        for candidate in self.routes:
            if isinstance(candidate, Route | Mount) and candidate.matches(probe)[0] is Match.FULL:
                return candidate.path_format
        return UNMATCHED_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")  # a mount changes it on the way in
        # The id is chosen here and reused by RequestIdMiddleware, so the log and the
        # X-Request-Id header agree.
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with logs.bound(logs.LogContext(request_id=request_id)):
            try:
                await self.app(scope, receive, send_and_note_status)
            finally:
                if scope["state"].get(CLIENT_CLOSED):
                    status = CLIENT_CLOSED_STATUS
                seconds = time.perf_counter() - started
                route = self.route_template(scope, root_path)
                method: str = scope["method"]
                self.metrics.observe_request(method, route, status, seconds)
                if access_log.isEnabledFor(logging.INFO):
                    _log_access(scope, method, route, status, seconds)


def _log_access(scope: Scope, method: str, route: str, status: int, seconds: float) -> None:
    # The raw path stays percent-encoded: it cannot break a text line. The query string is
    # left out: it may carry what a client considers private (search terms).
    raw = scope.get("raw_path") or quote(scope["path"]).encode()
    path = raw.decode("latin-1")[:MAX_LOGGED_PATH]
    client = scope.get("client")
    duration_ms = round(seconds * 1000, 2)
    access_log.info(
        "%s %s %d %.1f ms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": client[0] if client else None,
        },
    )
