"""Running the user commands (lists, contacts, jobs, campaigns) in tests.

``Cli`` runs them in this process (typer's CliRunner: fast, stdout and stderr apart) or as a
real ``python -m contactlists`` process, both with the connection of one live tenant from the
environment, and with no profile file unless a test writes one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from contactlists.cli import app
from tests.support.live import LiveService, LiveTenant

# Every variable the user commands read; unset unless a test sets it.
CONNECTION_VARIABLES = (
    "CONTACTLISTS_URL",
    "CONTACTLISTS_BOT",
    "CONTACTLISTS_CLIENT_ID",
    "CONTACTLISTS_CLIENT_SECRET",
    "CONTACTLISTS_ACCOUNT_ID",
    "CONTACTLISTS_TOKEN",
    "CONTACTLISTS_PROFILE",
    "CONTACTLISTS_CONFIG",
)
PROCESS_TIMEOUT_SECONDS = 120
# Set by pytest-xdist in its workers (80 columns); the CLI's output to a pipe has its own width,
# which tests asserting on a table rely on. A test wanting a terminal's width sets COLUMNS.
TERMINAL_SIZE = ("COLUMNS", "LINES")


def base_environment(config_home: Path) -> dict[str, str]:
    """This environment without CONTACTLISTS_*, with profile files under ``config_home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CONTACTLISTS_") and key not in TERMINAL_SIZE
    }
    env["XDG_CONFIG_HOME"] = str(config_home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Cli:
    """The CLI as ``tenant`` uses it, with ``config_home`` as XDG_CONFIG_HOME."""

    tenant: LiveTenant | None
    config_home: Path

    def environment(self, **extra: str) -> dict[str, str]:
        env = base_environment(self.config_home)
        if self.tenant is not None:
            env.update(self.tenant.environment())
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, **env: str) -> Result:
        """The command in this process; its exit code, stdout and stderr."""
        overrides: dict[str, str | None] = {
            key: None for key in os.environ if key.startswith("CONTACTLISTS_")
        }
        overrides.update(dict.fromkeys(CONNECTION_VARIABLES))
        overrides.update(dict.fromkeys(TERMINAL_SIZE))
        overrides["XDG_CONFIG_HOME"] = str(self.config_home)
        if self.tenant is not None:
            overrides.update(self.tenant.environment())
        overrides.update(env)
        return CliRunner().invoke(app, list(args), input=input, env=overrides)

    def ok(self, *args: str, input: str | None = None, **env: str) -> Result:
        result = self.run(*args, input=input, **env)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def json(self, *args: str, input: str | None = None, **env: str) -> Any:
        """The one JSON document a command with ``--json`` prints."""
        return json.loads(self.ok(*args, "--json", input=input, **env).stdout)

    def fails(self, code: int, *args: str, input: str | None = None, **env: str) -> Result:
        """Run a command that must exit with ``code``, not with a traceback."""
        result = self.run(*args, input=input, **env)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.stderr
        return result

    def process(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The command as a real process: ``python -m contactlists ARGS``."""
        return subprocess.run(
            [sys.executable, "-m", "contactlists", *args],
            input=input,
            env={**self.environment(), **(env or {})},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_SECONDS,
            check=False,
        )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def only_line(stderr: str) -> str:
    """The single line a failed command printed on stderr."""
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    return lines[0]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    return "".join(",".join(row) + "\n" for row in rows)


# Area codes of the US with numbers in every exchange 200-999 (libphonenumber agrees).
AREA_CODES = (212, 213, 312, 415, 617, 646, 718, 917)


def us_number(index: int) -> str:
    """The ``index``-th of 6,400,000 distinct valid US numbers, in E.164."""
    area = AREA_CODES[index % len(AREA_CODES)]
    rest = index // len(AREA_CODES)
    exchange, line = 200 + rest // 10_000, rest % 10_000
    return f"+1{area}{exchange}{line:04d}"


@pytest.fixture
def cli(live: LiveService, tmp_path: Path) -> Cli:
    """The CLI as a fresh tenant of the live service (either backend) uses it."""
    return Cli(live.tenant(), tmp_path / "config")
