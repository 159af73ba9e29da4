"""`modelpilot serve` under tracemalloc, for bench/handoff.py's Python-heap figure per stream.

SIGUSR1 writes the traced memory now (after a gc) to $MP_BENCH_TRACE_FILE as JSON, with the
sites that grew most since the previous signal. Tracing slows the server: latency figures come
from the untraced run only.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import signal
import sys
import tracemalloc

tracemalloc.start(1)
_previous: list = []


def _dump(*_: object) -> None:
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    grew, files = [], []
    if _previous:
        grew = [{"site": f"{_short(s.traceback[0].filename)}:{s.traceback[0].lineno}",
                 "bytes": s.size_diff, "count": s.count_diff}
                for s in snapshot.compare_to(_previous[0], "lineno")[:25]]
        files = [{"site": _short(s.traceback[0].filename), "bytes": s.size_diff}
                 for s in snapshot.compare_to(_previous[0], "filename")[:15]]
    _previous[:] = [snapshot]
    target = os.environ["MP_BENCH_TRACE_FILE"]
    with open(target + ".tmp", "w") as out:
        json.dump({"traced_bytes": tracemalloc.get_traced_memory()[0], "grew": grew, "files": files}, out)
    os.replace(target + ".tmp", target)


def _short(filename: str) -> str:
    return filename.split("site-packages/")[-1].split("/lib/python3.11/")[-1].split("/modelpilot/", 1)[-1]


signal.signal(signal.SIGUSR1, _dump)
sys.argv = ["modelpilot", *sys.argv[1:]]
runpy.run_module("modelpilot", run_name="__main__")
