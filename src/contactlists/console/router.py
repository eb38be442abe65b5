"""The console's routes: its page, its static files, and its sign-in."""

from __future__ import annotations

import hmac
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from contactlists.apps import service as apps
from contactlists.auth import BOT_ID_PATTERN
from contactlists.console.schemas import Session, SignIn
from contactlists.deps import SessionDep, SettingsDep
from contactlists.errors import Forbidden, InvalidCredentials, ValidationFailed
from contactlists.schemas import Success
from contactlists.tokens import mint_token
from contactlists.wire import json_body

STATIC = files("contactlists.console") / "static"
router = APIRouter(include_in_schema=False)


@router.get("/console")
async def console_page() -> FileResponse:
    """The console's one page; the app in it routes by the URL's fragment."""
    return FileResponse(str(STATIC / "index.html"), media_type="text/html")


@router.post("/console/token", response_model=Success[Session])
async def sign_in(
    body: Annotated[SignIn, json_body(SignIn)],
    session: SessionDep,
    settings: SettingsDep,
) -> Success[Session]:
    """Trade an app's client id and secret for a short-lived token (the secret is not kept)."""
    app = await apps.find_usable(session, body.clientId)
    # The same answer for an unknown app and a wrong secret, compared in constant time.
    if app is None or not hmac.compare_digest(
        app.client_secret.encode(), body.clientSecret.encode()
    ):
        raise InvalidCredentials("The client id or the client secret is wrong.")
    if not BOT_ID_PATTERN.match(body.bot):
        raise ValidationFailed.field("bot", "The bot id must look like st-….")
    if app.bots is not None and body.bot not in app.bots:
        raise Forbidden(f"The app {app.name} may not use the bot {body.bot}.")
    if not {apps.SCOPE_MANAGE, apps.SCOPE_READ} & set(app.scopes):
        raise Forbidden(f"The app {app.name} may not use the contact-list API.")
    algorithm = app.algorithms[0]
    token = mint_token(
        app.client_id,
        app.client_secret,
        expires_in=settings.console_token_seconds,
        algorithm=algorithm,
    )
    return Success(
        message=f"Signed in as {app.name}",
        data=Session(
            token=token,
            expiresIn=settings.console_token_seconds,
            bot=body.bot,
            appName=app.name,
            readOnly=apps.SCOPE_MANAGE not in app.scopes,
        ),
    )


def install(app: FastAPI) -> None:
    """Serve the console at /console (its assets under /console/static)."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=str(STATIC)), name="console-static")
