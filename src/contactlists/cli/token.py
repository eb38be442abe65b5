"""``contactlists token``: a JWT for an app, as a client would mint it."""

from __future__ import annotations

from typing import Annotated

import typer

from contactlists.cli._common import fail
from contactlists.tokens import ALGORITHMS, mint_token


def token(
    client_id: Annotated[
        str, typer.Option(envvar="CONTACTLISTS_CLIENT_ID", help="The app's clientId.")
    ],
    client_secret: Annotated[
        str, typer.Option(envvar="CONTACTLISTS_CLIENT_SECRET", help="The app's clientSecret.")
    ],
    sub: Annotated[str | None, typer.Option(help="Recorded as createdBy/updatedBy.")] = None,
    expires_in: Annotated[
        int, typer.Option(min=0, help="Lifetime in seconds; 0 leaves out `exp`.")
    ] = 3600,
    algorithm: Annotated[str, typer.Option(help="HS256, or HS512 if the app allows it.")] = "HS256",
) -> None:
    """Print a JWT for the `auth` header."""
    if algorithm not in ALGORITHMS:
        raise fail(f"unknown algorithm {algorithm}; known: {', '.join(ALGORITHMS)}")
    typer.echo(
        mint_token(
            client_id,
            client_secret,
            sub=sub,
            expires_in=expires_in or None,
            algorithm=algorithm,
        )
    )
