"""The server caps glibc's malloc arenas (core/memory.py): threads share two arenas instead of
taking one each, which trims the resident memory an idle event stream costs beyond its heap.
Checked with glibc's own report (malloc_info) in a fresh interpreter, against the same threads
without the cap."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")

CHILD = r"""
import ctypes, sys, threading
from modelpilot.core.memory import limit_malloc_arenas
mode, path = sys.argv[1], sys.argv[2]
if mode == "cap":
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
f = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
print(open(path).read().count("<heap nr="))
"""


def arenas(mode: str, report: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    argv = [sys.executable, "-c", CHILD, mode, str(report)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_threads_share_at_most_two_arenas_once_capped(tmp_path: Path):
    uncapped = arenas("free", tmp_path / "free.xml")
    assert uncapped > 2, "glibc gave the threads no arenas of their own: the check below proves nothing"
    assert arenas("cap", tmp_path / "cap.xml") <= 2


def test_an_operators_malloc_arena_max_wins(monkeypatch):
    from modelpilot.core.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
