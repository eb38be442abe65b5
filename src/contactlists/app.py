"""The FastAPI application: ``create_app(settings)`` wires everything, nothing happens at import."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from contactlists import __version__, openapi
from contactlists.apps.cache import AppCache
from contactlists.campaigns import router as campaigns_router
from contactlists.config import Settings, get_settings
from contactlists.console import router as console_router
from contactlists.console.headers import SecurityHeaders
from contactlists.contacts import router as contacts_router
from contactlists.db import migrate
from contactlists.db.engine import create_sessionmaker, engine_for
from contactlists.dialer import router as dialer_router
from contactlists.dnc import router as dnc_router
from contactlists.http import RequestIdMiddleware, install_error_handlers
from contactlists.imports import jobs_router
from contactlists.imports import router as imports_router
from contactlists.jobs import repository as jobs_repository
from contactlists.jobs.worker import WorkerPool
from contactlists.lists import router as lists_router
from contactlists.observability.metrics import METRICS_PATH, Metrics, metrics_endpoint
from contactlists.observability.middleware import ObservabilityMiddleware
from contactlists.ratelimit.service import RateLimiter
from contactlists.tasks import HANDLERS
from contactlists.trash import router as trash_router
from contactlists.undo import router as undo_router
from contactlists.wire import include_per_family

DESCRIPTION = """\
Contact lists for outbound voice and SMS campaigns, wire-compatible with Kore.ai's
Campaign Management contact-list API. Authenticate with a JWT in the `auth` header
(`contactlists token` prints one). Every error has the same envelope.
"""

STATIC_DOCS_PATH = "/static/swagger-ui"
PROCESS_ID_HEADER = "x-process-id"
# Connections of the background pool besides two per worker (its batch and its heartbeat):
# /readyz and the queue gauges of /metrics.
BACKGROUND_POOL_RESERVE = 2


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Per app: create_app runs many times in one test process.
    metrics = Metrics(job_kinds=HANDLERS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_for(settings)
        # The job workers and /readyz draw from a pool of their own: however many requests
        # wait for the request pool, imports go on and the health probe answers.
        background = engine_for(
            settings,
            pool_size=2 * settings.workers + BACKGROUND_POOL_RESERVE,
            max_overflow=BACKGROUND_POOL_RESERVE,
        )
        app.state.engine = engine
        app.state.background_engine = background
        app.state.sessionmaker = create_sessionmaker(engine)
        metrics.queue_reader = lambda: _read_queue(app)
        app.state.rate_limiter = RateLimiter(app.state.sessionmaker, settings)
        app.state.app_cache = AppCache(
            app.state.sessionmaker, check_seconds=settings.app_cache_check_seconds
        )
        workers = WorkerPool(create_sessionmaker(background), settings, HANDLERS, metrics=metrics)
        app.state.workers = workers
        workers.start()
        try:
            yield
        finally:
            await workers.stop()
            await engine.dispose()
            await background.dispose()

    app = FastAPI(
        title="contactlists",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # A trailing slash is a route that does not exist (404 envelope), not a 307 to the
        # path without it: `…/jobs/%2e%2e/` must not redirect a client to `…/jobs/..`.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    # The console's page headers, and no-store on every answer to a request with a token.
    app.add_middleware(SecurityHeaders)
    _add_api_routes(app)
    _add_operations_routes(app)
    _add_offline_docs(app)
    if settings.console:
        console_router.install(app)
    openapi.install(app)  # every error answer, per operation, in /openapi.json
    # Not in the OpenAPI document: it is for Prometheus, not for API clients.
    app.add_route(METRICS_PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)
    # Added last, so it is the outermost of our middlewares: it sees every final status
    # (keep it last when adding others).
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, routes=app.routes)
    return app


def _add_api_routes(app: FastAPI) -> None:
    """Each feature's router, once per path family (the order is the API document's)."""
    include_per_family(app, lists_router.router_for, under="/contactList", tag="contact lists")
    include_per_family(app, trash_router.router_for, under="/contactList", tag="contact lists")
    include_per_family(app, contacts_router.router, under="/contactList", tag="contacts")
    include_per_family(app, jobs_router.router, under="/jobs", tag="jobs")
    include_per_family(app, undo_router.router, under="/jobs", tag="jobs")
    include_per_family(app, imports_router.router, under="/contactList", tag="contacts")
    include_per_family(app, campaigns_router.router, tag="campaigns")
    include_per_family(app, dnc_router.router, tag="do-not-call")
    include_per_family(app, dialer_router.router, tag="dialer")
    campaigns_router.include_trigger_only_prefixes(app)
    app.include_router(contacts_router.add_contacts_router)


async def _read_queue(app: FastAPI) -> list[tuple[str, str, int]]:
    async with create_sessionmaker(app.state.background_engine)() as session:
        return await jobs_repository.queue_counts(session)


def _add_operations_routes(app: FastAPI) -> None:
    process_id = str(os.getpid())  # create_app runs in each process of `serve --processes`

    @app.get("/healthz", tags=["operations"])
    async def healthz(response: Response) -> dict[str, str]:
        """The process is up. `X-Process-Id` names which one answered (`serve --processes`)."""
        response.headers[PROCESS_ID_HEADER] = process_id
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"model": dict[str, Any]}})
    async def readyz(request: Request) -> JSONResponse:
        """The database answers and its schema is current."""
        engine = request.app.state.background_engine
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await migrate.current_revision(engine)
        except Exception as exc:  # any failure to reach the database means "not ready"
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        head = migrate.head_revision()
        if current != head:
            return JSONResponse(
                {"status": "unavailable", "reason": f"schema at {current}, expected {head}"}, 503
            )
        return JSONResponse({"status": "ok", "schema": current})


def _add_offline_docs(app: FastAPI) -> None:
    # Swagger UI's assets come from a package, so /docs works without internet access. It must
    # be Swagger UI 5 or later: 4.x cannot read the OpenAPI 3.1 document FastAPI writes.
    # fastapi-offline ships one (its static files are all we use of it).
    app.mount(
        STATIC_DOCS_PATH,
        StaticFiles(directory=str(files("fastapi_offline") / "static")),
        name="swagger-ui",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="contactlists — API docs",
            swagger_js_url=f"{STATIC_DOCS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_DOCS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_DOCS_PATH}/favicon.png",
        )
