"""Scale-out: widget replies per second from two ModelPilot nodes against one, on one Postgres.

Each node is `modelpilot serve` pinned to one core with `taskset` (node 1 on CPU 0, node 2 on
CPU 1), both on the same Postgres database (MP_BENCH_DATABASE_URL, an empty database, or else a
fresh one on the tests' embedded Postgres) and the same fake OpenAI-compatible model
(tests/fakes/llm.py). Widget visitors as in bench/load.py: each sends a message, reads the SSE
stream to its end, and sends the next. Phases alternate one node, two nodes, one node (the
one-node figure is the mean of both), so drifting load on this shared machine hits both sides.

The model answers `[[paced]]`: ten pieces 30 ms apart, a short answer from a fast model. A
model that answers at once would make every reply a burst of CPU in the fake and the load
generator, which share the cores with the nodes; pacing makes a reply cost what it costs in
production (a stream relayed piece by piece) while VISITORS keep more replies in flight than one
node can serve, so the nodes are saturated in both phases.

The machine has 2 cores: Postgres, the fake model and this load generator run on the same two
cores as the nodes (they cannot be given cores of their own), so with two nodes the nodes get
less than two whole cores. Beside the raw ratio (goal >= 1.7) the bench therefore reports the
CPU seconds every party used in each phase and replies per node-CPU-second: if that stays the
same with two nodes, nothing the nodes share (the database, its locks) slows either of them, and
on a machine with a core per node the raw ratio follows it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from _common import cpu_seconds, summary_ms, write_results
from load import ORIGIN, Tally, drive, set_up, start_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SECRET = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes, base64: every node the same
VISITORS = 120
SECONDS = 20.0
MESSAGE = "[[paced]] What do you sell?"


def clock_ticks(pid: int) -> float:
    """CPU seconds of a process, 0 once it has gone."""
    try:
        return cpu_seconds(pid)
    except FileNotFoundError:
        return 0.0


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


class Postgres:
    """The database, and the CPU its server processes use (the postmaster's children)."""

    def __init__(self) -> None:
        self.url, self.ours = os.environ.get("MP_BENCH_DATABASE_URL", ""), False
        self.postmaster = None
        if not self.url:
            sys.path.insert(0, str(ROOT))
            from tests.pg_support import fresh_database

            self.url, self.ours = fresh_database(migrated=False), True
            socket_dir = re.search(r"host=([^&]+)", self.url).group(1)
            self.postmaster = int((Path(socket_dir) / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        return sum(clock_ticks(pid) for pid in [self.postmaster, *children_of(self.postmaster)])

    def drop(self) -> None:
        if self.ours:
            from tests.pg_support import drop_database

            drop_database(self.url)


def start_node(name: str, cpu: int, url: str, work: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "MODELPILOT_DATA_DIR": str(work / name), "MODELPILOT_PORT": "0",
           "MODELPILOT_LOG_LEVEL": "warning", "LITELLM_OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1",
           "MODELPILOT_DATABASE_URL": url, "MODELPILOT_SECRET_KEY": SECRET, "MODELPILOT_NODE_ID": name,
           "MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE": "1000000",
           "MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE": "1000000",
           "MODELPILOT_WIDGET_IP_REQUESTS_PER_MINUTE": "1000000",
           "MODELPILOT_WIDGET_DAILY_MESSAGES": "100000000"}
    proc, base = start_process(["taskset", "-c", str(cpu), sys.executable, "-m", "modelpilot", "serve"], env,
                               work / f"{name}.log", r"on (http://127\.0\.0\.1:\d+)")
    wait_healthy(base)
    return proc, base


def phase(nodes: list[tuple[subprocess.Popen, str]], bot: str, others: dict[str, callable]) -> dict:
    """VISITORS conversations for SECONDS, visitor i on node i mod len(nodes)."""
    before = {name: read() for name, read in others.items()}
    node_before = [clock_ticks(proc.pid) for proc, _ in nodes]
    started = time.monotonic()
    tally: Tally = asyncio.run(drive(
        VISITORS, SECONDS, lambda i: f"{nodes[i % len(nodes)][1]}/api/v1/widget/{bot}/chat",
        lambda i, t: {"session_id": f"fleet-visitor-{i:04d}-session", "message": f"{MESSAGE} ({t})"},
        {"origin": ORIGIN}))
    elapsed = time.monotonic() - started
    node_cpu = sum(clock_ticks(proc.pid) for proc, _ in nodes) - sum(node_before)
    cpu = {"nodes": round(node_cpu, 2)}
    for name, read in others.items():
        after = read()
        cpu[name] = None if after is None or before[name] is None else round(after - before[name], 2)
    replies = len(tally.total)
    return {"nodes": len(nodes), "replies": replies, "replies_per_s": round(replies / elapsed, 1),
            "complete": summary_ms(tally.total), "errors": dict(tally.errors), "cpu_seconds": cpu,
            "replies_per_node_cpu_second": round(replies / node_cpu, 1) if node_cpu else None,
            "load_average_after": os.getloadavg()}


def main() -> None:
    global VISITORS, SECONDS
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per phase")
    parser.add_argument("--visitors", type=int, default=VISITORS)
    args = parser.parse_args()
    VISITORS, SECONDS = args.visitors, args.seconds
    work = Path(tempfile.mkdtemp(prefix="mp-fleet-"))
    pg = Postgres()
    llm, llm_url = start_process([sys.executable, "tests/fakes/llm.py"], dict(os.environ), work / "llm.log",
                                 r"(http://127\.0\.0\.1:\d+/v1)")
    me = os.getpid()
    others = {"postgres": pg.cpu_seconds, "fake_model": lambda: clock_ticks(llm.pid),
              "load_generator": lambda: clock_ticks(me)}
    running: list[subprocess.Popen] = [llm]
    try:
        first = start_node("node-1", 0, pg.url, work)
        running.append(first[0])
        admin, _ws, bot, _docs = set_up(first[1], llm_url)
        asyncio.run(drive(10, 3.0, lambda i: f"{first[1]}/api/v1/widget/{bot}/chat",  # warm-up
                          lambda i, t: {"session_id": f"warm-{i:04d}-session", "message": MESSAGE},
                          {"origin": ORIGIN}))
        one_a = phase([first], bot, others)
        second = start_node("node-2", 1, pg.url, work)
        running.append(second[0])
        asyncio.run(drive(10, 3.0, lambda i: f"{second[1]}/api/v1/widget/{bot}/chat",
                          lambda i, t: {"session_id": f"warm2-{i:04d}-session", "message": MESSAGE},
                          {"origin": ORIGIN}))
        two = phase([first, second], bot, others)
        second[0].send_signal(signal.SIGTERM)
        second[0].wait(timeout=20)
        one_b = phase([first], bot, others)
        one_rate = (one_a["replies_per_s"] + one_b["replies_per_s"]) / 2
        one_per_cpu = (one_a["replies_per_node_cpu_second"] + one_b["replies_per_node_cpu_second"]) / 2
        results = {
            "machine": f"{os.cpu_count()} cores; Postgres, the fake model and the load generator share them with "
                       "the nodes (node-1 pinned to CPU 0, node-2 to CPU 1 with taskset)",
            "visitors": VISITORS, "seconds_per_phase": SECONDS, "model": "fake, [[paced]]: 10 pieces 30 ms apart",
            "one_node_first": one_a, "two_nodes": two, "one_node_again": one_b,
            "replies_per_s_two_over_one": round(two["replies_per_s"] / one_rate, 2),
            "replies_per_node_cpu_second_two_over_one": round(two["replies_per_node_cpu_second"] / one_per_cpu, 2),
            "goal": "replies/s two nodes / one node >= 1.7",
        }
        print(f"two nodes / one: {results['replies_per_s_two_over_one']}x replies/s "
              f"({two['replies_per_s']} vs {one_rate:.1f}); per node-CPU-second "
              f"{results['replies_per_node_cpu_second_two_over_one']}x; {results['machine']}", flush=True)
        write_results("fleet", results)
    finally:
        for proc in reversed(running):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        pg.drop()


if __name__ == "__main__":
    main()
