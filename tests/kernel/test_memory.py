"""The malloc arena cap: threads of a capped process share two arenas, an operator's setting wins."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt"
)

# Eight threads that each allocate while the others still live; glibc's malloc_stats() then
# prints one "Arena N:" block per arena to stderr.
SCRIPT = """
import ctypes, sys, threading
from services.kernel.memory import cap_malloc_arenas
capped = cap_malloc_arenas() if sys.argv[1] == "cap" else None
barrier = threading.Barrier(8)
def work():
    keep = [bytearray(4096) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(capped)
sys.stdout.flush()
ctypes.CDLL(None).malloc_stats()
"""


def _run(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=60, env=environ
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), len(re.findall(r"^Arena \d+:", done.stderr, re.M))


def test_capped_threads_share_two_arenas() -> None:
    said, arenas = _run("cap")
    assert said == "True"
    assert 1 <= arenas <= 2
    _, uncapped = _run("none")
    assert uncapped > 2  # what the cap prevents


def test_an_operators_malloc_arena_max_is_left_alone() -> None:
    said, arenas = _run("cap", MALLOC_ARENA_MAX="3")
    assert said == "False"
    assert arenas <= 3


TRIM = """
import sys
from services.kernel.memory import release_free_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
blocks = [bytearray(2048) for _ in range(100_000)]  # ~200 MB from malloc, not pymalloc
keep = blocks[::100]  # what stays alive pins the heap's top, so free() alone returns little
del blocks
before = rss()
said = release_free_memory()
print(said, before, rss())
"""


def test_released_memory_leaves_the_process() -> None:
    done = subprocess.run([sys.executable, "-c", TRIM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said, before, after = done.stdout.split()
    assert said == "True"
    assert float(before) - float(after) > 100  # MB handed back by malloc_trim
