"""Keep a long-running process's memory from creeping: fewer glibc malloc arenas, trimmed.

glibc gives each thread that allocates concurrently its own arena (up to 8 per core), and memory
freed in an arena is rarely handed back to the system. An import reads rows in threads, builds
batches on the event loop and writes them from the database driver's threads, so its garbage is
spread over many arenas: measured at 100 MiB of CSV, two arenas instead of the default held the
server 42 MiB lower at the same speed (docs/BENCHMARKS.md, B2). Even then the arenas' free
chunks stay resident; ``release_free_memory`` hands them back, which long imports do now and then.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import cache

M_ARENA_MAX = -8  # from glibc's <malloc.h>
ARENAS = 2


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to tune
    return libc


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas unless the operator chose with ``MALLOC_ARENA_MAX``; True if capped.

    Call it before the process starts threads: arenas that exist already are kept. Elsewhere
    than glibc (musl, macOS) there is nothing to cap and this does nothing.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False  # glibc read it at start-up; the operator's value stands
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return the free memory of every arena to the system; True if some was returned.

    It walks every arena, a few milliseconds: call it between batches, not per row.
    """
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))
