"""Handoff: operator message → visitor event latency with many open widget event streams, and
the server memory an idle stream costs.

The server runs as its own process (`modelpilot serve`, SQLite); this script opens N widget event
streams (one per visitor session, each already assigned to the operator), waits until every
stream is live, then sends operator messages one at a time to sessions in turn and times each
from the moment the POST is sent to the moment that visitor's stream delivers the message frame
(the operator's request, the write, the bus, the stream's database read and the SSE write).

Baseline (same run): the same measurement with a single open stream. Memory: the server's RSS
with N idle streams minus its RSS before they opened, divided by N (after a settle pause), the
streams opened 25 at a time (`--wave`, each wave live before the next) as visitors arrive; and
the marginal figure, from the second half of the streams alone (caches and allocator arenas
already warmed by the first half). A third server gives the RSS figure with all N opened in the
same instant (`rss_streams_opened_at_once`). That one is higher, and not memory an idle stream
holds: the allocator keeps the high-water mark of N request handlings at once, since arenas
pinned by the streams' long-lived objects are not returned (10 KB per stream in waves of 25
against 30 KB all at once, on fresh servers of the same build). The Python heap per idle
stream comes from a second server of the same build run under tracemalloc
(bench/_traced_serve.py, which writes its traced bytes on SIGUSR1): traced bytes with N idle streams minus before them, over N, with the allocation sites
that grew (per stream). RSS also counts what tracemalloc cannot see (SQLite's page caches, the
allocator's arenas and fragmentation, uvloop's C side); the heap figure is what the code holds.

    ./scripts/bench handoff                       # 500 streams, 300 messages
    .venv/bin/python bench/handoff.py --streams 100 --messages 100
    .venv/bin/python bench/handoff.py --fleet     # Postgres (embedded), two nodes: operator on A,
                                                  # visitors' streams on B (LISTEN/NOTIFY between them)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

from _common import rss_mb, summary_ms, write_results
from load import ORIGIN, PASSWORD, server_env, start_process, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
WAVE = 25  # streams opened at a time: visitors arrive over time, not all in one instant


def raise_open_file_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def set_up(url: str, sessions: int) -> tuple[httpx.Client, str, str, list[str]]:
    admin = httpx.Client(base_url=url, timeout=60)
    body = {"email": "bench@example.com", "password": PASSWORD, "name": "Operator", "workspace_name": "Bench"}
    ws = admin.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
    bot = admin.post(f"/api/v1/workspaces/{ws}/chatbots", json={
        "name": "Desk", "model": "builtin/extractive", "published": True, "allowed_origins": [ORIGIN],
        "handoff": {"enabled": True}}).json()["id"]
    conversations = []
    for i in range(sessions):
        done = admin.post(f"/api/v1/widget/{bot}/chat", headers={"origin": ORIGIN},
                          json={"session_id": session_of(i), "message": "I want a human"})
        conversation = [line for line in done.text.splitlines() if line.startswith("data:")][-1]
        conversation_id = httpx.Response(200, content=conversation[5:]).json()["conversation_id"]
        admin.post(f"/api/v1/workspaces/{ws}/conversations/{conversation_id}/assign", json={}).raise_for_status()
        conversations.append(conversation_id)
    return admin, ws, bot, conversations


def session_of(i: int) -> str:
    return f"bench-visitor-{i:05d}-session"


class Streams:
    """N widget event streams read concurrently; arrival times of marked operator messages."""

    def __init__(self, url: str, bot: str, count: int, first: int = 0) -> None:
        self.url, self.bot, self.count, self.first = url, bot, count, first
        self.live = 0
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.errors = 0

    async def _read(self, client: httpx.AsyncClient, i: int) -> None:
        params = {"session_id": session_of(i)}
        try:
            async with client.stream("GET", f"/api/v1/widget/{self.bot}/events", params=params,
                                     headers={"origin": ORIGIN}) as response:
                counted = False
                async for chunk in response.aiter_text():
                    if not counted and "retry:" in chunk:
                        counted = True
                        self.live += 1
                    for marker in [m for m in self.waiters if m in chunk]:
                        self.arrived[marker] = time.perf_counter()
                        self.waiters.pop(marker).set()
        except httpx.HTTPError:
            self.errors += 1

    async def run(self, stop: asyncio.Event) -> None:
        limits = httpx.Limits(max_connections=self.count + 10, max_keepalive_connections=self.count + 10)
        async with httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(60, read=None), limits=limits) as client:
            tasks = [asyncio.create_task(self._read(client, i)) for i in range(self.first, self.first + self.count)]
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def measure(url: str, admin: httpx.Client, ws: str, bot: str, conversations: list[str], streams: int,
                  messages: int, server_pid: int, stream_url: str, wave: int) -> dict:
    """Operator messages go to `url`; the visitors' streams are open on `stream_url` (the same
    node, or another node of the fleet), whose process is `server_pid`. Streams open `wave` at a
    time (each wave live before the next), as visitors arrive; memory is read once all are idle."""
    before = rss_mb(server_pid)
    stop = asyncio.Event()
    arrived: dict[str, float] = {}
    waiters: dict[str, asyncio.Event] = {}
    readers, running, at_half = [], [], None
    for first in range(0, streams, wave):
        reader = Streams(stream_url, bot, min(wave, streams - first), first=first)
        reader.arrived, reader.waiters = arrived, waiters  # one table for every wave
        readers.append(reader)
        running.append(asyncio.create_task(reader.run(stop)))
        await _until_live(reader, reader.count, settle=0)
        if at_half is None and first + reader.count >= streams // 2 and streams > 1:
            await asyncio.sleep(3)
            at_half, half = rss_mb(server_pid), first + reader.count  # the second half's cost is the marginal one
    await asyncio.sleep(3)  # settle: every stream idle
    idle = rss_mb(server_pid)
    live, errors = sum(r.live for r in readers), sum(r.errors for r in readers)
    latencies, post_times, missing = [], [], 0
    async with httpx.AsyncClient(base_url=url, timeout=60, cookies=admin.cookies) as operator:
        for n in range(messages):
            i = n % streams
            marker = f"bench-marker-{streams}-{n}-"
            waiters[marker] = event = asyncio.Event()  # every wave sees this dict
            started = time.perf_counter()
            response = await operator.post(f"/api/v1/workspaces/{ws}/conversations/{conversations[i]}/messages",
                                           json={"text": marker + " Hello from the operator."})
            post_times.append(time.perf_counter() - started)
            response.raise_for_status()
            try:
                await asyncio.wait_for(event.wait(), 10)
                latencies.append(arrived[marker] - started)
            except asyncio.TimeoutError:
                missing += 1
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*running)
    return {"streams": streams, "opened_per_wave": wave, "streams_live": live, "stream_errors": errors,
            "operator_message_to_visitor_event": summary_ms(latencies), "operator_post": summary_ms(post_times),
            "messages_not_delivered": missing, "server_rss_mb_before": round(before, 1),
            "server_rss_mb_idle_streams": round(idle, 1),
            "kb_per_idle_stream": round((idle - before) * 1024 / max(1, streams), 2),
            "kb_per_idle_stream_marginal": (round((idle - at_half) * 1024 / max(1, streams - half), 2)
                                            if at_half is not None and streams > half else None)}


def opened_at_once(work: Path, streams: int) -> dict:
    """RSS per stream when every stream opens in the same instant, on a server of its own: besides
    what the idle streams hold, what the allocator keeps from handling all their requests at once
    (its high-water mark: arenas pinned by the streams' long-lived objects are not given back)."""
    process, url = start_node(work, "at-once", "")
    try:
        _, _, bot, _ = set_up(url, streams)
        before = rss_mb(process.pid)
        idle = asyncio.run(_hold_streams(url, bot, streams, lambda: {"rss_mb": rss_mb(process.pid)}))
        return {"streams_live": idle["streams_live"], "server_rss_mb_before": round(before, 1),
                "server_rss_mb_idle_streams": round(idle["rss_mb"], 1),
                "kb_per_stream": round((idle["rss_mb"] - before) * 1024 / max(1, streams), 2)}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


async def _until_live(reader: Streams, count: int, settle: float = 3) -> None:
    deadline = time.monotonic() + 120
    while reader.live < count and reader.live + reader.errors < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle)  # settle: every stream idle


def start_node(work: Path, name: str, database_url: str, trace_file: Path | None = None) -> tuple[subprocess.Popen, str]:
    # No LLM library preload: it would land in the RSS figures (nothing here calls a model).
    env = {**server_env(work / name), "MODELPILOT_WIDGET_IP_REQUESTS_PER_MINUTE": "10000000",
           "MODELPILOT_LLM_PRELOAD": "false", "MODELPILOT_NODE_ID": f"node-{name}"}
    if database_url:  # a fleet shares the database and the secret key
        env.update(MODELPILOT_DATABASE_URL=database_url, MODELPILOT_SECRET_KEY=base64.b64encode(bytes(32)).decode())
    command = [sys.executable, "-m", "modelpilot", "serve"]
    if trace_file is not None:  # the same server under tracemalloc (bench/_traced_serve.py)
        env["MP_BENCH_TRACE_FILE"] = str(trace_file)
        command = [sys.executable, str(ROOT / "bench" / "_traced_serve.py"), "serve"]
    process, url = start_process(command, env, work / f"{name}.log", r"on (http://127\.0\.0\.1:\d+)")
    wait_healthy(url)
    return process, url


def traced_heap(process: subprocess.Popen, trace_file: Path) -> dict:
    """The traced server's Python heap now (it writes it on SIGUSR1), with the sites that grew."""
    trace_file.unlink(missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not trace_file.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the traced server wrote no heap figure")
        time.sleep(0.1)
    return json.loads(trace_file.read_text())


async def _hold_streams(url: str, bot: str, streams: int, read: Callable[[], dict]) -> dict:
    """Open `streams` streams at once, and once all are live and idle, `read()` (in a thread)."""
    reader, stop = Streams(url, bot, streams), asyncio.Event()
    running = asyncio.create_task(reader.run(stop))
    await _until_live(reader, streams)
    idle = await asyncio.to_thread(read)
    stop.set()
    await running
    return {**idle, "streams_live": reader.live}


def python_heap_per_stream(work: Path, streams: int) -> dict:
    """tracemalloc's view: Python-heap bytes per idle stream, and where they are (per stream)."""
    trace_file = work / "traced-heap.json"
    process, url = start_node(work, "traced", "", trace_file)
    try:
        _, _, bot, _ = set_up(url, streams)
        before = traced_heap(process, trace_file)
        idle = asyncio.run(_hold_streams(url, bot, streams, lambda: traced_heap(process, trace_file)))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    per_stream = (idle["traced_bytes"] - before["traced_bytes"]) / max(1, streams)
    return {"streams_live": idle["streams_live"], "kb_per_idle_stream": round(per_stream / 1024, 2),
            "top_sites_bytes_per_stream": [{"site": g["site"], "bytes": round(g["bytes"] / streams)}
                                           for g in idle["grew"][:15]],
            "files_bytes_per_stream": [{"file": g["site"], "bytes": round(g["bytes"] / streams)}
                                       for g in idle["files"]]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--fleet", action="store_true", help="two nodes on an embedded Postgres")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced server's heap figure")
    parser.add_argument("--wave", type=int, default=WAVE, help="streams opened at a time (each wave live before the next)")
    parser.add_argument("--no-at-once", action="store_true", help="skip the all-at-once memory figure (a third server)")
    args = parser.parse_args()
    limit = raise_open_file_limit(args.streams * 2 + 200)
    work = Path(tempfile.mkdtemp(prefix="mp-handoff-"))
    database_url = ""
    if args.fleet:
        from tests.pg_support import fresh_database

        database_url = fresh_database()
    servers = [start_node(work, name, database_url) for name in (("a", "b") if args.fleet else ("a",))]
    (_, url), (stream_server, stream_url) = servers[0], servers[-1]
    try:
        admin, ws, bot, conversations = set_up(url, args.streams)
        baseline = asyncio.run(measure(url, admin, ws, bot, conversations, 1, min(100, args.messages),
                                       stream_server.pid, stream_url, 1))
        loaded = asyncio.run(measure(url, admin, ws, bot, conversations, args.streams, args.messages,
                                     stream_server.pid, stream_url, args.wave))
        heap = None if args.fleet or args.no_tracemalloc else python_heap_per_stream(work, args.streams)
        at_once = None if args.fleet or args.no_at_once else opened_at_once(work, args.streams)
        base, full = (r["operator_message_to_visitor_event"] for r in (baseline, loaded))
        results = {
            "with_streams": loaded, "baseline_one_stream": baseline, "tracemalloc_idle_streams": heap,
            "rss_streams_opened_at_once": at_once,
            "ratio_vs_one_stream": {key: round(full[key] / base[key], 2) if base[key] else None
                                    for key in ("p50_ms", "p95_ms")},
            "goals": {"p95_ms_max": 100, "kb_per_idle_stream_max": 20,
                      "p95_met": full["p95_ms"] <= 100, "memory_met": loaded["kb_per_idle_stream"] <= 20},
            "config": {"streams": args.streams, "messages": args.messages, "opened_per_wave": args.wave,
                       "cpus": os.cpu_count(),
                       "open_file_limit": limit,
                       "backend": "postgres: operator on node A, streams on node B" if args.fleet else "sqlite",
                       "load_average_after": [round(v, 2) for v in os.getloadavg()]},
        }
        name = ("handoff" if args.streams == 500 else f"handoff_s{args.streams}") + ("_fleet" if args.fleet else "")
        write_results(name, results)
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
