"""Where the user commands find the service: flags, then CONTACTLISTS_*, then a profile file.

These need no server: resolution is a pure function of flags, environment and the file, and
the commands fail on bad settings before they send anything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contactlists.cli._connection import (
    ConfigurationError,
    ConnectionSettings,
    default_config_path,
    resolve,
)
from tests.support.cli import Cli, only_line
from tests.support.servers import free_port

FILE_PROFILE = {
    "url": "http://file.example:8000",
    "bot": "st-file",
    "client_id": "cs-file",
    "client_secret": "secret-file",
    "account_id": "a" * 24,
}


def write_profiles(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    """An XDG_CONFIG_HOME whose profile file has [default] and [prod]."""
    home = tmp_path / "xdg"
    write_profiles(
        home / "contactlists" / "profiles.toml",
        """
        [default]
        url = "http://file.example:8000"
        bot = "st-file"
        client_id = "cs-file"
        client_secret = "secret-file"
        account_id = "aaaaaaaaaaaaaaaaaaaaaaaa"

        [prod]
        url = "https://prod.example"
        bot = "st-prod"
        token = "token-prod"
        """,
    )
    return home


def no_flags() -> dict[str, str | None]:
    return {}


def test_the_default_profile_file_is_under_xdg_config_home_else_dot_config(
    tmp_path: Path,
) -> None:
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "contactlists" / "profiles.toml"
    )
    assert default_config_path({"HOME": str(tmp_path)}) == (
        tmp_path / ".config" / "contactlists" / "profiles.toml"
    )
    # An empty XDG_CONFIG_HOME counts as unset (XDG Base Directory spec).
    assert default_config_path({"XDG_CONFIG_HOME": "", "HOME": str(tmp_path)}) == (
        tmp_path / ".config" / "contactlists" / "profiles.toml"
    )


def test_the_default_profile_supplies_every_setting(config_home: Path) -> None:
    settings = resolve(no_flags(), {"XDG_CONFIG_HOME": str(config_home)})
    assert settings == ConnectionSettings(
        url=FILE_PROFILE["url"],
        bot=FILE_PROFILE["bot"],
        client_id=FILE_PROFILE["client_id"],
        client_secret=FILE_PROFILE["client_secret"],
        account_id=FILE_PROFILE["account_id"],
        profile="default",
        config_path=config_home / "contactlists" / "profiles.toml",
    )
    assert set(settings.sources.values()) == {"profile"}


def test_environment_beats_the_profile_and_flags_beat_the_environment(
    config_home: Path,
) -> None:
    environ = {
        "XDG_CONFIG_HOME": str(config_home),
        "CONTACTLISTS_URL": "http://env.example",
        "CONTACTLISTS_BOT": "st-env",
        "CONTACTLISTS_CLIENT_SECRET": "secret-env",
    }
    flags: dict[str, str | None] = {"url": "http://flag.example", "bot": None}
    settings = resolve(flags, environ)
    assert settings.url == "http://flag.example"  # flag over environment over profile
    assert settings.bot == "st-env"  # environment over profile (the flag was not given)
    assert settings.client_secret == "secret-env"
    assert settings.client_id == FILE_PROFILE["client_id"]  # only the profile has it
    assert settings.account_id == FILE_PROFILE["account_id"]
    assert settings.sources == {
        "url": "flag",
        "bot": "environment",
        "client_secret": "environment",
        "client_id": "profile",
        "account_id": "profile",
    }


def test_empty_values_count_as_not_given(config_home: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(config_home), "CONTACTLISTS_URL": ""}
    assert resolve({"url": ""}, environ).url == FILE_PROFILE["url"]


def test_a_profile_is_chosen_by_flag_then_environment(config_home: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(config_home), "CONTACTLISTS_PROFILE": "prod"}
    from_env = resolve(no_flags(), environ)
    assert (from_env.profile, from_env.url, from_env.token) == (
        "prod",
        "https://prod.example",
        "token-prod",
    )
    assert from_env.client_id is None
    from_flag = resolve(no_flags(), environ, profile="default")
    assert (from_flag.profile, from_flag.url) == ("default", FILE_PROFILE["url"])


def test_the_profile_file_is_chosen_by_flag_then_environment(
    config_home: Path, tmp_path: Path
) -> None:
    other = write_profiles(
        tmp_path / "other.toml", '[default]\nurl = "http://other.example"\nbot = "st-o"\n'
    )
    third = write_profiles(
        tmp_path / "third.toml", '[default]\nurl = "http://third.example"\nbot = "st-t"\n'
    )
    environ = {
        "XDG_CONFIG_HOME": str(config_home),
        "CONTACTLISTS_CONFIG": str(other),
        "CONTACTLISTS_TOKEN": "t",
    }
    assert resolve(no_flags(), environ).url == "http://other.example"
    assert resolve(no_flags(), environ, config=str(third)).url == "http://third.example"


def test_a_token_wins_over_credentials_from_the_same_or_a_lower_level(
    config_home: Path,
) -> None:
    environ = {"XDG_CONFIG_HOME": str(config_home), "CONTACTLISTS_TOKEN": "token-env"}
    # The profile's client id and secret are below the environment's token.
    over_profile = resolve(no_flags(), environ)
    assert (over_profile.token, over_profile.client_id, over_profile.client_secret) == (
        "token-env",
        None,
        None,
    )
    # Credentials given as flags are above it.
    flags: dict[str, str | None] = {"client_id": "cs-flag", "client_secret": "secret-flag"}
    by_flags = resolve(flags, environ)
    assert (by_flags.token, by_flags.client_id, by_flags.client_secret) == (
        None,
        "cs-flag",
        "secret-flag",
    )


def test_a_missing_default_profile_file_is_fine(tmp_path: Path) -> None:
    environ = {
        "XDG_CONFIG_HOME": str(tmp_path / "nothing-here"),
        "CONTACTLISTS_URL": "http://env.example",
        "CONTACTLISTS_BOT": "st-env",
        "CONTACTLISTS_TOKEN": "t",
    }
    settings = resolve(no_flags(), environ)
    assert (settings.url, settings.config_path) == ("http://env.example", None)


@pytest.mark.parametrize(
    ("environ", "profile", "config", "message"),
    [
        ({}, "staging", None, "profile 'staging' not found in "),
        ({"CONTACTLISTS_PROFILE": "staging"}, None, None, "profiles there: default, prod"),
        ({}, None, "missing.toml", "missing.toml does not exist"),
    ],
    ids=["named-by-flag", "named-by-env", "file-by-flag"],
)
def test_a_profile_or_file_that_was_asked_for_must_exist(
    config_home: Path,
    tmp_path: Path,
    environ: dict[str, str],
    profile: str | None,
    config: str | None,
    message: str,
) -> None:
    everything = {"XDG_CONFIG_HOME": str(config_home), **environ}
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        resolve(
            no_flags(),
            everything,
            profile=profile,
            config=str(tmp_path / config) if config else None,
        )


def test_a_named_profile_without_any_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="profile 'prod' not found: there is no profile"):
        resolve(no_flags(), {"XDG_CONFIG_HOME": str(tmp_path)}, profile="prod")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[default\nurl = 1", "is not valid TOML"),
        ('[default]\nsecret = "x"\n', "unknown setting secret in \\[default\\]"),
        ("[default]\nurl = 8000\n", "url in \\[default\\] of .* must be a string"),
        ('default = "x"\n', "\\[default\\] in .* must be a table"),
    ],
    ids=["not-toml", "unknown-key", "not-a-string", "not-a-table"],
)
def test_a_broken_profile_file_is_reported(tmp_path: Path, text: str, message: str) -> None:
    path = write_profiles(tmp_path / "profiles.toml", text)
    with pytest.raises(ConfigurationError, match=message):
        resolve(no_flags(), {}, config=str(path))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no service URL: give --url or set CONTACTLISTS_URL"),
        ({"CONTACTLISTS_URL": "http://x"}, "no bot: give --bot or set CONTACTLISTS_BOT"),
        (
            {"CONTACTLISTS_URL": "http://x", "CONTACTLISTS_BOT": "st-x"},
            "no credentials: give --client-id and --client-secret",
        ),
        (
            {
                "CONTACTLISTS_URL": "http://x",
                "CONTACTLISTS_BOT": "b",
                "CONTACTLISTS_CLIENT_ID": "c",
            },
            "no client secret for c: give --client-secret or set CONTACTLISTS_CLIENT_SECRET",
        ),
        (
            {"CONTACTLISTS_URL": "ftp://x", "CONTACTLISTS_BOT": "b", "CONTACTLISTS_TOKEN": "t"},
            "the service URL must start with http:// or https://",
        ),
    ],
    ids=["url", "bot", "credentials", "secret", "scheme"],
)
def test_missing_settings_name_their_flag_and_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        resolve(no_flags(), {"XDG_CONFIG_HOME": str(tmp_path), **environ})
    assert str(raised.value).startswith(message), str(raised.value)


def test_missing_settings_exit_2_with_one_line_before_anything_is_sent(tmp_path: Path) -> None:
    cli = Cli(None, tmp_path)
    result = cli.fails(2, "lists", "ls", "--json")
    assert result.stdout == ""
    assert only_line(result.stderr) == "error: no service URL: give --url or set CONTACTLISTS_URL"
    result = cli.fails(2, "lists", "ls", "--profile", "prod", CONTACTLISTS_URL="http://x")
    assert only_line(result.stderr).startswith("error: profile 'prod' not found")


def test_missing_settings_exit_2_as_a_process(tmp_path: Path) -> None:
    result = Cli(None, tmp_path).process("lists", "ls")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert only_line(result.stderr) == "error: no service URL: give --url or set CONTACTLISTS_URL"


def test_connection_refused_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {"CONTACTLISTS_URL": url, "CONTACTLISTS_BOT": "st-x", "CONTACTLISTS_TOKEN": "t"}
    result = Cli(None, tmp_path).process("lists", "ls", "--json", env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert only_line(result.stderr).startswith(f"error: cannot reach {url}: GET ")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    cli = Cli(None, tmp_path)
    assert "No such option" in cli.fails(2, "lists", "ls", "--no-such-option").stderr
    assert "Missing argument" in cli.fails(2, "lists", "show").stderr
    assert "'dnc' is not one of" in cli.fails(2, "lists", "create", "x", "--type", "dnc").stderr
    assert "No such command" in cli.fails(2, "lists", "frobnicate").stderr


def test_the_profile_file_connects_a_command(tmp_path: Path) -> None:
    """Settings from [default] reach the client: the URL it fails to reach is the file's."""
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    write_profiles(
        tmp_path / "contactlists" / "profiles.toml",
        f'[default]\nurl = "{url}"\nbot = "st-x"\ntoken = "t"\n',
    )
    result = Cli(None, tmp_path).fails(1, "lists", "show", "cl-x")
    assert only_line(result.stderr).startswith(f"error: cannot reach {url}: ")


USER_COMMAND_MODULES = ["lists", "contacts", "jobs", "campaigns", "_connection", "_output"]


def test_user_commands_load_neither_the_database_nor_the_web_framework() -> None:
    """The user commands are a client: importing them (and running one) loads no server code."""
    modules = ", ".join(f"contactlists.cli.{name}" for name in USER_COMMAND_MODULES)
    probe = (
        f"import sys, {modules}\n"
        "from contactlists.cli import load_command\n"
        "for name in ('lists', 'contacts', 'jobs', 'campaigns'):\n"
        "    load_command(name)\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'alembic', 'uvicorn',\n"
        "                                      'asyncpg', 'aiosqlite', 'starlette'))\n"
        "print(','.join(heavy))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "", f"server modules loaded: {found.stdout}"
