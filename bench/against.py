"""An older commit of this repository, checked out and installed apart, to bench side by side.

``older_checkout(commit)`` makes a temporary git worktree of ``commit`` and a virtual environment
of its own (the commit's pinned dependencies, from its ``constraints.txt``), so the old code runs
exactly as it was, whatever this checkout's environment has since become. Both are removed on
the way out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import harness


@dataclass(frozen=True)
class Checkout:
    commit: str
    root: Path
    python: Path

    def run_bench(self, module: str, args: Sequence[str], results: Path) -> Path:
        """Run ``python -m module args`` of the old checkout; the report it wrote."""
        env = {**os.environ, "BENCH_RESULTS_DIR": str(results)}
        subprocess.run([str(self.python), "-m", module, *args], cwd=self.root, env=env, check=True)
        reports = sorted(results.glob("*.md"), key=lambda path: path.stat().st_mtime)
        if not reports:
            raise RuntimeError(f"{module} at {self.commit} wrote no report into {results}")
        return reports[-1]


@contextmanager
def older_checkout(commit: str) -> Iterator[Checkout]:
    with tempfile.TemporaryDirectory(prefix="contactlists-against-") as tmp:
        root = Path(tmp) / "checkout"
        git = ["git", "-C", str(harness.REPO)]
        subprocess.run([*git, "worktree", "add", "--detach", str(root), commit], check=True)
        try:
            harness.log(f"installing {commit} into its own virtual environment")
            venv = Path(tmp) / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            python = venv / "bin" / "python"
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "-c",
                    "constraints.txt",
                    "-e",
                    ".[dev]",
                ],
                cwd=root,
                check=True,
            )
            yield Checkout(commit, root, python)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(root)], check=False)


def report_value(report: Path, label: str) -> str:
    """The value of the row ``label`` of a bench report's table, bold marks removed."""
    for line in report.read_text().splitlines():
        cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == label:
            return cells[1]
    raise RuntimeError(f"{report} has no row {label!r}")


def rate_of(text: str) -> float:
    """A rate as reports print it ("7,753/s")."""
    found = re.fullmatch(r"([\d,.]+)/s", text)
    if found is None:
        raise RuntimeError(f"not a rate: {text!r}")
    return float(found.group(1).replace(",", ""))
