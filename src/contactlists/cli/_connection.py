"""Where the user commands find the service and their credentials, and the options for it.

Each setting comes from its flag, else its ``CONTACTLISTS_*`` variable, else the chosen
profile of the profile file (TOML, ``~/.config/contactlists/profiles.toml``)::

    [default]
    url = "http://127.0.0.1:8000"
    bot = "st-…"
    client_id = "cs-…"
    client_secret = "…"
    account_id = "…"   # optional
    token = "…"        # instead of client_id and client_secret

:func:`command` gives a command these options (and ``--json``) without repeating them in
its signature, and hands it a :class:`Session` whose ``api`` is a ready SDK client.
"""

from __future__ import annotations

import functools
import inspect
import os
import tomllib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from contactlists.cli._output import Output, UsageFailure, run_reporting
from contactlists.client import Client

# The settings a profile may hold, with their flag and variable.
SETTINGS: dict[str, tuple[str, str, str]] = {
    # name: (flag, environment variable, help)
    "url": ("--url", "CONTACTLISTS_URL", "The service's base URL, e.g. http://127.0.0.1:8000."),
    "bot": ("--bot", "CONTACTLISTS_BOT", "The bot (st-…) whose data to work on."),
    "client_id": ("--client-id", "CONTACTLISTS_CLIENT_ID", "The app's clientId (cs-…)."),
    "client_secret": (
        "--client-secret",
        "CONTACTLISTS_CLIENT_SECRET",
        "The app's clientSecret (tokens are minted from it).",
    ),
    "account_id": (
        "--account-id",
        "CONTACTLISTS_ACCOUNT_ID",
        "The app's accountId, sent as the accountId header (optional).",
    ),
    "token": (
        "--token",
        "CONTACTLISTS_TOKEN",
        "A ready JWT, instead of --client-id and --client-secret.",
    ),
}
PROFILE_ENV = "CONTACTLISTS_PROFILE"
CONFIG_ENV = "CONTACTLISTS_CONFIG"
DEFAULT_PROFILE = "default"
PANEL = "Connection"

# Where a value came from, lowest precedence first.
FROM_PROFILE, FROM_ENV, FROM_FLAG = 1, 2, 3


class ConfigurationError(UsageFailure):
    """The connection settings are missing, contradictory or unreadable (exit 2)."""


def default_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/contactlists/profiles.toml``, else under ``~/.config``."""
    base = environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base else Path(environ.get("HOME") or Path.home()) / ".config"
    return root / "contactlists" / "profiles.toml"


@dataclass(frozen=True)
class ConnectionSettings:
    """The resolved connection: enough to make a :class:`Client`."""

    url: str
    bot: str
    client_id: str | None = None
    # Out of repr: a traceback or a debugging print must not show them.
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    account_id: str | None = None
    profile: str = DEFAULT_PROFILE
    config_path: Path | None = None
    # For each setting, where it came from ("flag", "environment" or "profile").
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def client(self) -> Client:
        try:
            return Client(
                self.url,
                bot=self.bot,
                client_id=self.client_id,
                client_secret=self.client_secret,
                token=self.token,
                account_id=self.account_id,
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None


def load_profile(path: Path, name: str, *, path_given: bool, name_given: bool) -> dict[str, str]:
    """The settings of profile ``name`` in ``path``; {} when neither was asked for and absent."""
    if not path.is_file():
        if path_given:
            raise ConfigurationError(f"profile file {path} does not exist")
        if name_given:
            raise ConfigurationError(f"profile {name!r} not found: there is no profile file {path}")
        return {}
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read profile file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"profile file {path} is not valid TOML: {exc}") from None
    table = document.get(name)
    if table is None:
        if not name_given:
            return {}
        known = ", ".join(key for key, value in document.items() if isinstance(value, dict))
        raise ConfigurationError(
            f"profile {name!r} not found in {path} (profiles there: {known or 'none'})"
        )
    if not isinstance(table, dict):
        raise ConfigurationError(f"[{name}] in {path} must be a table of settings")
    unknown = sorted(set(table) - set(SETTINGS))
    if unknown:
        raise ConfigurationError(
            f"unknown setting {', '.join(unknown)} in [{name}] of {path} "
            f"(known: {', '.join(SETTINGS)})"
        )
    values: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"{key} in [{name}] of {path} must be a string")
        if value:
            values[key] = value
    return values


def resolve(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    *,
    profile: str | None = None,
    config: str | Path | None = None,
) -> ConnectionSettings:
    """The connection from flags, else the environment, else the profile file.

    ``flags`` maps setting names (:data:`SETTINGS`) to what was given on the command line;
    ``profile`` and ``config`` are the ``--profile`` and ``--config`` flags. A token is used
    when it comes from the same or a higher level than the client id and secret.
    """
    profile_name = profile or environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    config_value = config or environ.get(CONFIG_ENV) or None
    path = Path(config_value).expanduser() if config_value else default_config_path(environ)
    from_file = load_profile(
        path,
        profile_name,
        path_given=config_value is not None,
        name_given=bool(profile or environ.get(PROFILE_ENV)),
    )

    values: dict[str, str] = {}
    level: dict[str, int] = {}
    for name, (_flag, variable, _help) in SETTINGS.items():
        for source, value in (
            (FROM_FLAG, flags.get(name)),
            (FROM_ENV, environ.get(variable)),
            (FROM_PROFILE, from_file.get(name)),
        ):
            if value:
                values[name], level[name] = value, source
                break

    def missing(name: str) -> str:
        flag, variable, _help = SETTINGS[name]
        where = f" (or set {name} in [{profile_name}] of {path})" if path.is_file() else ""
        return f"give {flag} or set {variable}{where}"

    if "url" not in values:
        raise ConfigurationError(f"no service URL: {missing('url')}")
    if not values["url"].startswith(("http://", "https://")):
        raise ConfigurationError(
            f"the service URL must start with http:// or https://, not {values['url']!r}"
        )
    if "bot" not in values:
        raise ConfigurationError(f"no bot: {missing('bot')}")

    credentials = max(level.get("client_id", 0), level.get("client_secret", 0))
    has_credentials = "client_id" in values and "client_secret" in values
    if "token" in values and (not has_credentials or level["token"] >= credentials):
        client_id = client_secret = None
        token: str | None = values["token"]
    elif has_credentials:
        client_id, client_secret, token = values["client_id"], values["client_secret"], None
    elif "client_id" in values:
        raise ConfigurationError(
            f"no client secret for {values['client_id']}: {missing('client_secret')}"
        )
    elif "client_secret" in values:
        raise ConfigurationError(f"no client id: {missing('client_id')}")
    else:
        raise ConfigurationError(
            "no credentials: give --client-id and --client-secret (CONTACTLISTS_CLIENT_ID, "
            "CONTACTLISTS_CLIENT_SECRET) or --token (CONTACTLISTS_TOKEN)"
            + (f", or set them in [{profile_name}] of {path}" if path.is_file() else "")
        )
    names = {FROM_FLAG: "flag", FROM_ENV: "environment", FROM_PROFILE: "profile"}
    return ConnectionSettings(
        url=values["url"],
        bot=values["bot"],
        client_id=client_id,
        client_secret=client_secret,
        token=token,
        account_id=values.get("account_id"),
        profile=profile_name,
        config_path=path if from_file else None,
        sources={name: names[source] for name, source in level.items()},
    )


class Session:
    """What a user command works with: its output, and a client made on first use."""

    def __init__(
        self,
        flags: Mapping[str, str | None],
        out: Output,
        *,
        profile: str | None = None,
        config: str | None = None,
    ) -> None:
        self.out = out
        self._flags = dict(flags)
        self._profile = profile
        self._config = config
        self._settings: ConnectionSettings | None = None
        self._client: Client | None = None

    @property
    def settings(self) -> ConnectionSettings:
        if self._settings is None:
            self._settings = resolve(
                self._flags, os.environ, profile=self._profile, config=self._config
            )
        return self._settings

    @property
    def api(self) -> Client:
        if self._client is None:
            self._client = self.settings.client()
        return self._client

    @property
    def url(self) -> str | None:
        return self._settings.url if self._settings else None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _option(
    name: str, flag: str, help_text: str, annotation: Any = str | None
) -> inspect.Parameter:
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            annotation,
            typer.Option(flag, help=help_text, rich_help_panel=PANEL, show_default=False),
        ],
    )


CONNECTION_PARAMETERS = [
    _option(f"connection_{name}", flag, f"{help_text} Env: {variable}.")
    for name, (flag, variable, help_text) in SETTINGS.items()
] + [
    _option(
        "connection_profile",
        "--profile",
        f"The profile (table) of the profile file to use. Env: {PROFILE_ENV}; default: default.",
    ),
    _option(
        "connection_config",
        "--config",
        f"The profile file. Env: {CONFIG_ENV}; default: "
        "$XDG_CONFIG_HOME/contactlists/profiles.toml or ~/.config/contactlists/profiles.toml.",
    ),
]
JSON_PARAMETER = inspect.Parameter(
    "output_json",
    inspect.Parameter.KEYWORD_ONLY,
    default=False,
    annotation=Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON document, for scripts.")
    ],
)
QUIET_PARAMETER = inspect.Parameter(
    "output_quiet",
    inspect.Parameter.KEYWORD_ONLY,
    default=False,
    annotation=Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")
    ],
)


def command(
    *, json_output: bool = True, quiet_option: bool = False
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the connection options (and ``--json``, ``--quiet``).

    The decorated function takes a :class:`Session` first, then its own parameters; typer
    sees its own parameters followed by the shared ones, so they may be given in any order
    after the command's name.
    """

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(function, eval_str=True)
        own = list(signature.parameters.values())[1:]
        shared = list(CONNECTION_PARAMETERS)
        if json_output:
            shared.append(JSON_PARAMETER)
        if quiet_option:
            shared.append(QUIET_PARAMETER)

        @functools.wraps(function)
        def run(**kwargs: Any) -> None:
            flags = {name: kwargs.pop(f"connection_{name}") for name in SETTINGS}
            profile = kwargs.pop("connection_profile")
            config = kwargs.pop("connection_config")
            out = Output(
                json_mode=kwargs.pop("output_json", False),
                quiet=kwargs.pop("output_quiet", False),
            )
            session = Session(flags, out, profile=profile, config=config)
            try:
                with warnings.catch_warnings():
                    # A secret too short for HS256 is a wrong secret: the 401 says so, once.
                    warnings.filterwarnings("ignore", message=r"The HMAC key is \d+ bytes long")
                    run_reporting(out, lambda: function(session, **kwargs), url=lambda: session.url)
            finally:
                session.close()

        parameters = own + shared
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
        del run.__wrapped__
        return run

    return decorate
