"""The import contract (``make lint``): packages import only downward, and it is enforced.

The contract is checked on a copy of the package, once as it is and once with one import that
goes the wrong way, so a contract that had stopped checking anything would fail here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    shutil.copytree(
        ROOT / "src" / "contactlists",
        copy / "src" / "contactlists",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / "src" / Path(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{statement}  # noqa\n")


def test_the_code_keeps_the_contract(tree: Path) -> None:
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        # A lower package importing a higher one: the lists would know about campaigns.
        (
            "contactlists.lists.repository",
            "from contactlists.campaigns import service as _campaigns",
            "Packages import only downward",
        ),
        # The queue importing a feature: jobs is infrastructure.
        (
            "contactlists.jobs.worker",
            "from contactlists.imports import tasks as _tasks",
            "Packages import only downward",
        ),
        # The SDK pulling in the server's database layer.
        (
            "contactlists.client._transport",
            "import sqlalchemy as _sqlalchemy",
            "The SDK needs none of the server's packages",
        ),
    ],
)
def test_a_wrong_import_breaks_the_contract(
    tmp_path: Path, tree: Path, module: str, statement: str, broken: str
) -> None:
    wrong = tmp_path / "wrong"
    shutil.copytree(tree, wrong)
    add_import(wrong, module, statement)

    result = lint_imports(wrong)

    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout
    assert module in result.stdout
