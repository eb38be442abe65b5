"""``serve`` and ``worker`` cap glibc's malloc arenas (B2: memory freed in many arenas stays)."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contactlists.cli import serve, worker

pytestmark = pytest.mark.skipif(
    ctypes.util.find_library("c") is None or not Path("/proc/self/maps").exists(),
    reason="glibc's malloc only",
)

# Starts eight threads that each allocate with malloc, then counts the arenas glibc made, from
# malloc_info's XML (one <heap> per arena).
COUNT_ARENAS = r"""
import ctypes, ctypes.util, re, sys, tempfile, threading
from contactlists.memory import limit_malloc_arenas
capped = limit_malloc_arenas() if sys.argv[1] == "cap" else False
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
barrier = threading.Barrier(8)
def allocate():
    barrier.wait()  # all eight allocate at once, so none can reuse another's arena
    libc.malloc(100_000)
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with tempfile.NamedTemporaryFile("r") as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    heaps = len(re.findall(r'<heap nr="\d+">', out.read()))
print(capped, heaps)
"""


def arenas_after_eight_threads(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    out = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout.split()
    return out[0], int(out[1])


def test_the_cap_holds_a_threaded_process_to_two_arenas() -> None:
    capped, arenas = arenas_after_eight_threads("cap")
    assert capped == "True"
    assert arenas <= 2


def test_without_the_cap_threads_spread_over_more_arenas() -> None:
    # The control: the test above would pass vacuously if eight threads made one arena anyway.
    _, arenas = arenas_after_eight_threads("no-cap")
    assert arenas > 2


def test_the_operators_malloc_arena_max_stands() -> None:
    capped, arenas = arenas_after_eight_threads("cap", MALLOC_ARENA_MAX="4")
    assert capped == "False"
    assert 2 < arenas <= 4


@pytest.mark.parametrize("command", [serve.serve, worker.worker])
def test_serve_and_worker_cap_the_arenas_before_anything_else(
    command: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Capped(Exception):
        pass

    def cap() -> bool:
        raise Capped  # stop the command here: the cap comes first

    monkeypatch.setattr(f"{command.__module__}.limit_malloc_arenas", cap)
    with pytest.raises(Capped):
        command()  # type: ignore[operator]


# Fills an arena with 64 KiB blocks from a thread, frees all but every 64th (so the arena
# cannot shrink from its top by itself), then reads the resident size before and after
# release_free_memory.
FRAGMENT_AND_TRIM = r"""
import ctypes, ctypes.util, threading
from pathlib import Path
from contactlists.memory import release_free_memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def churn():
    blocks = [libc.malloc(65536) for _ in range(4096)]  # 256 MiB
    for block in blocks:
        ctypes.memset(block, 1, 65536)
    for index, block in enumerate(blocks):
        if index % 64:
            libc.free(block)
thread = threading.Thread(target=churn)
thread.start()
thread.join()
before = rss_kib()
released = release_free_memory()
print(released, before, rss_kib())
"""


def test_release_free_memory_returns_an_arenas_free_pages_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FRAGMENT_AND_TRIM], capture_output=True, text=True, check=True
    ).stdout.split()
    released, before, after = out[0], int(out[1]), int(out[2])
    assert released == "True"
    # 252 of the 256 MiB were freed: most of it must leave the process.
    assert before - after > 200 * 1024, (before, after)
