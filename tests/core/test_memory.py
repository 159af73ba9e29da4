"""The server caps glibc's malloc arenas (core/memory.py): threads share two arenas instead of
taking one each, which is most of the resident memory an idle event stream costs beyond its heap.
Checked with glibc's own report (malloc_info) in a fresh interpreter, against the same threads
without the cap."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")

CHILD = r"""
import ctypes, sys, tempfile, threading
from modelpilot.core.memory import limit_malloc_arenas
if sys.argv[1] == "cap":
    assert limit_malloc_arenas(2) is True
barrier = threading.Barrier(12)
held = []
def work():
    barrier.wait()
    held.append([bytearray(2048) for _ in range(200)])  # above pymalloc's 512 B: glibc malloc
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = tempfile.mktemp()
f = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
print(open(path).read().count("<heap nr="))
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_threads_share_at_most_two_arenas_once_capped():
    uncapped = arenas("free")
    assert uncapped > 2, "glibc gave the threads no arenas of their own: the check below proves nothing"
    assert arenas("cap") <= 2


def test_an_operators_malloc_arena_max_wins(monkeypatch):
    from modelpilot.core.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
