"""Process memory: how many malloc arenas the threads of one platform process may use.

glibc gives each thread that allocates while another holds the lock its own arena, up to eight
per core, and memory freed into one arena is not reused by another. A platform process runs a
database thread per SQLite connection, tantivy's writer and the `to_thread` pool, so a bulk
import spreads its short-lived bodies (a law is 100 kB in several copies) over a dozen arenas
and the resident size climbs with every batch: measured on a 500-text `jiyue import`, peak RSS
413 MB with glibc's default, 351 MB with two arenas; the whole corpus 518.6 MB and 406 MB,
389.9 MB with the search indexer also calling `release_free_memory` after each flush. Two is
what `MALLOC_ARENA_MAX=2` sets; calling `cap_malloc_arenas` first thing does the same from
inside.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("jiyue.memory")

M_ARENA_MAX = -8  # glibc's malloc.h
DEFAULT_ARENAS = 2


def cap_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Limit glibc's arenas (before threads start); False where the C library is not glibc.

    An operator's own `MALLOC_ARENA_MAX` wins: glibc read it at start and this leaves it alone.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_ARENA_MAX, arenas))
    if not ok:
        log.debug("mallopt(M_ARENA_MAX, %d) refused", arenas)
    return ok


def release_free_memory() -> bool:
    """Hand memory that malloc holds free back to the system (glibc's `malloc_trim`).

    For a worker that has just let go of a large transient working set (a batch of laws turned
    into token strings); False where the C library has no malloc_trim.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
