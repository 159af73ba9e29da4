"""What ModelPilot adds to time-to-first-byte of a chat, at 1 and at 50 concurrent streams.

Runs the fake OpenAI-compatible provider and `modelpilot serve --port 0` as subprocesses, then
measures time to the first SSE byte straight from the fake and through ModelPilot's chat route.
Overhead = ModelPilot TTFB minus raw TTFB (p50 and p95, each measured in the same run). Also
reports whole-stream time and the server's RSS. Goal: p50 < 15 ms and p95 < 50 ms at 50 streams.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import percentile, rss_mb, summary_ms, write_results

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = {1: 40, 50: 4}  # concurrency -> rounds of that many simultaneous streams


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (load-independent, unlike latency here)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_process(args: list[str], marker: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if marker in line:
            return proc, line
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"{args[:3]} did not start")


async def ttfb(client: httpx.AsyncClient, url: str, body: dict, headers: dict) -> tuple[float, float]:
    """Seconds to the first body byte, and to the end of the stream."""
    started = time.perf_counter()
    first = None
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for _ in response.aiter_raw():
            if first is None:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


async def measure(client, url, body, headers, concurrency: int) -> dict:
    firsts, totals = [], []
    for _ in range(ROUNDS[concurrency]):
        results = await asyncio.gather(*(ttfb(client, url, body, headers) for _ in range(concurrency)))
        firsts += [r[0] for r in results]
        totals += [r[1] for r in results]
    return {"ttfb": summary_ms(firsts), "total": summary_ms(totals), "_firsts": firsts}


def setup_workspace(base: str, fake_url: str) -> tuple[str, str]:
    with httpx.Client(base_url=base, timeout=60) as api:
        body = {"email": "bench@example.com", "password": "a long enough passphrase", "name": "Bench",
                "workspace_name": "Bench"}
        ws = api.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
        token = api.post(f"/api/v1/workspaces/{ws}/api-tokens", json={"name": "bench", "role": "admin"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        api.put(f"/api/v1/workspaces/{ws}/providers/openai", json={"api_key": "sk-bench-0123456789",
                                                                   "api_base": fake_url}, headers=auth)
        urls = []
        for model in ("gpt-4o-mini", "builtin/extractive"):
            bot = api.post(f"/api/v1/workspaces/{ws}/chatbots", json={"name": "Bench", "model": model},
                           headers=auth).json()
            urls.append(f"{base}/api/v1/workspaces/{ws}/chatbots/{bot['id']}/chat")
    return urls[0], urls[1], token


async def run(fake_url: str, chat_url: str, builtin_url: str, token: str, server_pid: int) -> dict:
    raw_url = f"{fake_url}/chat/completions"
    raw_body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "system", "content": "You are a bench."},
                             {"role": "user", "content": "What do you sell?"}]}
    raw_headers = {"Authorization": "Bearer sk-bench-0123456789"}
    mp_headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    out = {}
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _ in range(5):  # warm-up: LiteLLM import, connection pools
            await ttfb(client, chat_url, {"message": "warm up"}, mp_headers)
        for concurrency in ROUNDS:
            raw = await measure(client, raw_url, raw_body, raw_headers, concurrency)
            cpu_before = cpu_seconds(server_pid)
            through = await measure(client, chat_url, {"message": "What do you sell?"}, mp_headers, concurrency)
            cpu_per_chat = (cpu_seconds(server_pid) - cpu_before) / len(through["_firsts"])
            out[f"concurrency_{concurrency}"] = {
                "raw_fake": {k: v for k, v in raw.items() if not k.startswith("_")},
                "modelpilot": {k: v for k, v in through.items() if not k.startswith("_")},
                "overhead_p50_ms": round((percentile(through["_firsts"], 50) - percentile(raw["_firsts"], 50)) * 1000, 2),
                "overhead_p95_ms": round((percentile(through["_firsts"], 95) - percentile(raw["_firsts"], 95)) * 1000, 2),
                "server_cpu_ms_per_chat": round(cpu_per_chat * 1000, 2),
            }
        # The same chat path without LiteLLM (the built-in model): what the rest of ModelPilot costs.
        cpu_before = cpu_seconds(server_pid)
        builtin = await measure(client, builtin_url, {"message": "What do you sell?"}, mp_headers, 1)
        out["builtin_model_cpu_ms_per_chat"] = round((cpu_seconds(server_pid) - cpu_before) * 1000 / ROUNDS[1], 2)
        out["builtin_model_ttfb"] = builtin["ttfb"]
    return out


def main() -> None:
    python = sys.executable
    fake, line = start_process([python, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    data_dir = tempfile.mkdtemp(prefix="mp-bench-chat-")
    server, line = start_process([python, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
                                  "--log-level", "warning"], "ModelPilot")
    base = line.split(" on ", 1)[1].split()[0]
    try:
        chat_url, builtin_url, token = setup_workspace(base, fake_url)
        results = asyncio.run(run(fake_url, chat_url, builtin_url, token, server.pid))
        results["load_average"] = os.getloadavg()
        results["server_rss_mb"] = round(rss_mb(server.pid), 1)
        results["goal"] = "overhead at 50 concurrent: p50 < 15 ms, p95 < 50 ms"
        write_results("chat_overhead", results)
    finally:
        for proc in (server, fake):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
