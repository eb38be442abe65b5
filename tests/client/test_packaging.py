"""``pip install contactlists`` (no extras) is the SDK and the user CLI, without the server.

One fresh virtualenv, with the package built from a copy of this checkout and installed
without extras (pinned by constraints.txt; pip's cache makes it quick after ``make install``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from contactlists.cli._common import SERVER_NEEDED
from tests.support.live import LiveService

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ["fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "aiosqlite", "asyncpg"]
SERVER_ONLY += ["pydantic_settings", "prometheus_client", "fastapi_offline", "multipart"]


class BareVenv:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.home = root.parent / "home"
        self.home.mkdir()

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        # Nothing of this process's environment may lead to the dev venv's packages.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CONTACTLISTS_", "PYTHON", "VIRTUAL_ENV"))
        }
        env |= {"XDG_CONFIG_HOME": str(self.home), "PATH": f"{self.bin}:{env['PATH']}"}
        return env | (extra or {})

    def run(
        self, program: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.home,
            env=self.environment(env),
            check=False,
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return self.run("python", "-c", code)

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("contactlists", *args, env=env)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> BareVenv:
    work = tmp_path_factory.mktemp("bare")
    project = work / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "src",
        project / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    venv = work / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return BareVenv(venv)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return done.stdout


def test_the_server_packages_are_not_installed(bare: BareVenv) -> None:
    probe = (
        "import importlib, json, sys\n"
        "found = []\n"
        f"for name in {SERVER_ONLY!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    found.append(name)\n"
        "print(json.dumps(found))\n"
    )
    assert json.loads(ok(bare.python(probe))) == []
    for name in ("fastapi", "sqlalchemy", "asyncpg"):
        done = bare.python(f"import {name}")
        assert done.returncode == 1
        assert f"No module named '{name}'" in done.stderr


def test_the_server_is_an_extra(bare: BareVenv) -> None:
    requires = json.loads(
        ok(
            bare.python(
                "import importlib.metadata as m, json\n"
                "print(json.dumps(m.requires('contactlists')))\n"
            )
        )
    )
    base = [r for r in requires if "extra ==" not in r]
    server = [r for r in requires if 'extra == "server"' in r]
    assert sorted(r.split(">")[0].split("<")[0] for r in base) == [
        "httpx",
        "phonenumbers",
        "pydantic",
        "pyjwt",
        "rich",
        "typer",
    ]
    assert any(r.startswith("fastapi") for r in server)
    assert any(r.startswith("sqlalchemy[asyncio]") for r in server)


def test_the_sdk_imports_from_the_installed_package(bare: BareVenv) -> None:
    where = ok(
        bare.python(
            "import contactlists.client as sdk\n"
            "print(sdk.__file__)\n"
            "assert sdk.Client and sdk.AsyncClient\n"
        )
    )
    assert where.strip().startswith(str(bare.root))


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["lists", "--help"],
        ["contacts", "--help"],
        ["jobs", "--help"],
        ["campaigns", "--help"],
        ["token", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["db", "upgrade", "--help"],
        ["apps", "create", "--help"],
    ],
)
def test_the_help_works(bare: BareVenv, command: Sequence[str]) -> None:
    shown = ok(bare.cli(*command))
    assert "Usage: contactlists" in shown


def test_token_mints_without_the_server(bare: BareVenv) -> None:
    token = ok(bare.cli("token", "--client-id", "cs-x", "--client-secret", "s" * 32)).strip()
    assert token.count(".") == 2
    assert (
        bare.cli(
            "token", "--client-id", "cs-x", "--client-secret", "s", "--algorithm", "X"
        ).returncode
        == 1
    )


@pytest.mark.parametrize(
    "command",
    [["serve"], ["worker"], ["db", "upgrade"], ["apps", "list"], ["apps", "create", "--name", "x"]],
)
def test_server_commands_say_what_to_install(bare: BareVenv, command: Sequence[str]) -> None:
    done = bare.cli(*command)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"error: {SERVER_NEEDED}\n"


def test_the_user_commands_and_the_sdk_call_a_service(bare: BareVenv, live: LiveService) -> None:
    tenant = live.tenant()
    env = tenant.environment()
    created = json.loads(ok(bare.cli("lists", "create", "From a bare install", "--json", env=env)))
    shown = json.loads(ok(bare.cli("lists", "show", created["_id"], "--json", env=env)))
    assert shown["name"] == "From a bare install"
    listed = bare.run(
        "python",
        "-c",
        "import os\n"
        "from contactlists.client import Client\n"
        "with Client(os.environ['CONTACTLISTS_URL'], bot=os.environ['CONTACTLISTS_BOT'],\n"
        "            client_id=os.environ['CONTACTLISTS_CLIENT_ID'],\n"
        "            client_secret=os.environ['CONTACTLISTS_CLIENT_SECRET']) as api:\n"
        "    print(','.join(summary.name for summary in api.lists.list()))\n",
        env=env,
    )
    assert ok(listed).strip() == "From a bare install"
