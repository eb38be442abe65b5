"""Helpers shared by the operator commands, server-free.

The operator commands' modules import nothing of the server at their top, so that ``contactlists
--help`` and ``contactlists serve --help`` work with the SDK and CLI alone (``pip install
contactlists``). They import the server inside the command, under :func:`needs_server`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")

SERVER_NEEDED = "this command needs the server: pip install 'contactlists[server]'"
# The top-level modules of the `server` extra's packages (and of what they need themselves).
SERVER_MODULES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "asyncpg",
        "fastapi",
        "greenlet",
        "mako",
        "multipart",
        "prometheus_client",
        "pydantic_settings",
        "python_multipart",
        "sqlalchemy",
        "starlette",
        "swagger_ui_bundle",
        "uvicorn",
    }
)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CONTACTLISTS_DATABASE_URL",
        help="SQLite file or postgresql:// URL. Default: ./contactlists.db.",
        show_default=False,
    ),
]


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def needs_server(command: Callable[P, R]) -> Callable[P, R]:
    """``command``, failing in one line (status 1) when the server extra is not installed."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in SERVER_MODULES:
                raise
            raise fail(SERVER_NEEDED) from None

    return run
