"""The console's sign-in request and answer (pydantic only)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]


class SignIn(BaseModel):
    """Body of ``POST /console/token``."""

    model_config = ConfigDict(extra="ignore")

    clientId: Text
    clientSecret: Annotated[str, Field(min_length=1, max_length=1024)]
    bot: Text


class Session(BaseModel):
    """What the console keeps of a sign-in: the token, never the secret."""

    token: str
    expiresIn: int
    bot: str
    appName: str
    readOnly: bool
