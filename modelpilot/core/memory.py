"""Allocator tuning for the long-running server process.

glibc gives every thread that allocates its own malloc arena, up to eight per core; a server whose
database and embedding work runs in thread pools ends up with many half-used arenas, and each
open event stream costs more resident memory than the Python heap it holds. With two arenas
bench/handoff.py measured 19.3–20.3 KB RSS per idle stream against 20.7–21.3 KB with glibc's
default (500 streams). A MALLOC_ARENA_MAX the operator set wins: glibc has read it already.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads created from now on; False where that does not apply
    (not Linux, not glibc, or MALLOC_ARENA_MAX set in the environment)."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # present in glibc only; musl's mallopt ignores this option
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1


def freeze_heap() -> int:
    """Collect, then move every object the garbage collector still tracks into its permanent
    generation (gc.freeze), so later collections skip them; returns how many are frozen in all.
    For what lives as long as the process, once each: the imported modules and the app (`serve`),
    LiteLLM, the embedding model. A full collection walks every tracked object while the event
    loop waits: ~60 ms once the app is imported, ~250 ms once LiteLLM is (416,000 objects), a
    pause every stream saw whenever one ran (the first burst of 50 requests after LiteLLM loaded
    waited ~260 ms on it). The collection first, so nothing that was garbage is frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def trim_heap() -> bool:
    """Hand the allocator's free memory back to the system (glibc's malloc_trim); False where
    that does not apply. Worth it after a one-off peak: loading the embedding model leaves
    ~65 MB of freed load-time buffers resident otherwise."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    trim(0)
    return True
