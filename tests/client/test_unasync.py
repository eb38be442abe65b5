"""``scripts/unasync.py``: ``_sync.py`` is what it generates from ``_async.py``, and
``--check`` catches a ``_sync.py`` edited by hand."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "unasync.py"
CLIENT = ROOT / "src" / "contactlists" / "client"


@pytest.fixture(scope="module")
def unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sync_client_is_what_the_generator_writes(unasync: ModuleType) -> None:
    said: list[str] = []
    assert unasync.check(report=said.append) == 0, "".join(said)
    assert said == []


def test_the_generated_file_says_so_and_holds_no_async_code() -> None:
    text = (CLIENT / "_sync.py").read_text()
    assert text.startswith("# Generated from _async.py by scripts/unasync.py: do not edit")
    assert "make unasync" in text.splitlines()[1]
    for word in ("async ", "await ", "asyncio", "AsyncClient", "aclose", "aiter_bytes"):
        assert word not in text, word
    assert "class Client:" in text
    assert "def __enter__(self) -> Client:" in text


def test_a_hand_edit_of_sync_fails_the_check(unasync: ModuleType, tmp_path: Path) -> None:
    edited = tmp_path / "_sync.py"
    original = (CLIENT / "_sync.py").read_text()
    assert "            sleep(delay)\n" in original
    edited.write_text(original.replace("            sleep(delay)\n", "            sleep(1)\n", 1))
    said: list[str] = []
    assert unasync.check(target=edited, report=said.append) == 1
    report = "".join(said)
    assert str(edited) in report
    assert "-            sleep(1)\n" in report
    assert "+            sleep(delay)\n" in report


def test_the_check_command_exits_1_with_the_file_and_a_diff(tmp_path: Path) -> None:
    copy = tmp_path / "_sync.py"
    shutil.copyfile(CLIENT / "_sync.py", copy)
    unchanged = run_check("--target", str(copy))
    assert unchanged.returncode == 0, unchanged.stderr

    copy.write_text(copy.read_text().replace("class Client:", "class Client:  # tweaked", 1))
    changed = run_check("--target", str(copy))
    assert changed.returncode == 1
    assert str(copy) in changed.stderr
    assert "+class Client:\n" in changed.stderr
    assert "-class Client:  # tweaked\n" in changed.stderr


def test_a_missing_sync_file_fails_the_check(unasync: ModuleType, tmp_path: Path) -> None:
    said: list[str] = []
    assert unasync.check(target=tmp_path / "_sync.py", report=said.append) == 1
    assert "missing" in "".join(said)


def test_a_change_to_async_goes_stale_until_regenerated(
    unasync: ModuleType, tmp_path: Path
) -> None:
    source = tmp_path / "_async.py"
    target = tmp_path / "_sync.py"
    shutil.copyfile(CLIENT / "_sync.py", target)
    source.write_text(
        (CLIENT / "_async.py")
        .read_text()
        .replace("    async def restore(self, list_id", "    async def undelete(self, list_id", 1)
    )
    assert unasync.check(source=source, target=target, report=lambda _: None) == 1
    assert unasync.write(source=source, target=target) is True
    assert "    def undelete(self, list_id" in target.read_text()
    assert unasync.check(source=source, target=target, report=lambda _: None) == 0
    assert unasync.write(source=source, target=target) is False


def test_the_token_rewrite(unasync: ModuleType) -> None:
    source = (
        "# A comment that opens the file is replaced by the header.\n"
        '"""An asyncio helper for ``AsyncClient``: ``await api.aclose()``."""\n'
        "\n"
        "from asyncio import sleep\n"
        "\n"
        "\n"
        "async def f(client: httpx.AsyncClient) -> AsyncIterator[bytes]:\n"
        '    async with client.stream("GET", "/") as answer:\n'
        "        async for chunk in answer.aiter_bytes():\n"
        "            yield chunk\n"
        "    print(await client.aclose(), f'{AsyncClient} aclosed Asyncio')\n"
        "    await sleep(0)  # an asyncio pause; areader and Async_x stay\n"
    )
    assert unasync.unasync(source) == unasync.HEADER + (
        '"""A blocking helper for ``Client``: ``api.close()``."""\n'
        "\n"
        "from time import sleep\n"
        "\n"
        "\n"
        "def f(client: httpx.Client) -> Iterator[bytes]:\n"
        '    with client.stream("GET", "/") as answer:\n'
        "        for chunk in answer.iter_bytes():\n"
        "            yield chunk\n"
        "    print(client.close(), f'{Client} aclosed Asyncio')\n"
        "    sleep(0)  # a blocking pause; areader and Async_x stay\n"
    )
