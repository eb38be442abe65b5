"""Keep a long-running process's memory from creeping: cap glibc's malloc arenas.

glibc gives each thread that allocates concurrently its own arena (up to 8 per core), and memory
freed in an arena is rarely handed back to the system. An import reads rows in threads, builds
batches on the event loop and writes them from the database driver's threads, so its garbage is
spread over many arenas: measured at 100 MiB of CSV, two arenas instead of the default held the
server 42 MiB lower at the same speed (docs/BENCHMARKS.md, B2).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # from glibc's <malloc.h>
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas unless the operator chose with ``MALLOC_ARENA_MAX``; True if capped.

    Call it before the process starts threads: arenas that exist already are kept. Elsewhere
    than glibc (musl, macOS) there is nothing to cap and this does nothing.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False  # glibc read it at start-up; the operator's value stands
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
