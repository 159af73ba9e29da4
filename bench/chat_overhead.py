"""What ModelPilot adds to time-to-first-byte of a chat, at 1 and at 50 concurrent streams.

Runs the fake OpenAI-compatible provider and `modelpilot serve --port 0` as subprocesses, then
measures time to the first SSE byte straight from the fake and through ModelPilot's chat route.
Overhead = ModelPilot TTFB minus raw TTFB (p50 and p95), the raw provider measured the same way, in
slices alternating with ModelPilot's in the same run. "50 concurrent streams" is reported these ways:
  burst_50   rounds of 50 streams started at the same instant (the worst case: one queue of 50);
  steady_50  50 workers, each running streams back to back for STEADY_SECONDS (50 always in flight).
             The fake answers at once, so this is a saturation test: 50 / throughput sets the latency.
  steady_50_paced  the same with the fake pacing its answer like a model (40 pieces, 100 ms apart) and
             workers starting 80 ms apart: 50 streams always in flight as in production, ~12 new ones
             a second arriving evenly, 500 chunks/s relayed.
Also server CPU per chat, whole-stream time and the server's RSS. Goal: p50 < 15 ms, p95 < 50 ms.
Each run measures a server on SQLite, then one on Postgres (MP_BENCH_DATABASE_URL, an empty database, or
else a fresh one on the tests' pgserver), and prints Postgres / SQLite for CPU per chat, overhead and
streams per second; `--sqlite-only` skips Postgres.
`.venv/bin/python bench/chat_overhead.py --litellm` runs the same with MODELPILOT_LLM_DIRECT_OPENAI=false (every call through LiteLLM) and
writes results/chat_overhead_litellm.json, so both paths can be compared on the same machine.
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

from _common import cpu_seconds, percentile, rss_mb, summary_ms, write_results

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL_ROUNDS = 40   # streams one after another (concurrency 1)
BURST_ROUNDS = 4         # rounds of 50 simultaneous streams
STEADY_SECONDS = 10.0    # how long 50 workers keep streams in flight
CONCURRENCY = 50


def start_process(args: list[str], marker: str, env: dict | None = None,
                  cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=open(os.environ["MP_BENCH_ERR"], "a") if os.environ.get("MP_BENCH_ERR") else subprocess.DEVNULL, text=True,
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


async def in_rounds(client, url, body, headers, concurrency: int, rounds: int) -> dict:
    """`rounds` times: start `concurrency` streams at the same instant and wait for all of them."""
    firsts, totals = [], []
    for _ in range(rounds):
        results = await asyncio.gather(*(ttfb(client, url, body, headers) for _ in range(concurrency)))
        firsts += [r[0] for r in results]
        totals += [r[1] for r in results]
    return {"_firsts": firsts, "_totals": totals}


async def steady(client, url, body, headers, workers: int, seconds: float, stagger: float = 0.0) -> dict:
    """`workers` loops, each starting its next stream as soon as the last one ended, for `seconds`.
    Worker i starts i * `stagger` seconds late, so long streams do not all begin (and end) together."""
    firsts, totals = [], []
    deadline = time.perf_counter() + seconds

    async def worker(number: int) -> None:
        await asyncio.sleep(number * stagger)
        while time.perf_counter() < deadline:
            first, total = await ttfb(client, url, body, headers)
            firsts.append(first)
            totals.append(total)

    started = time.perf_counter()
    await asyncio.gather(*(worker(number) for number in range(workers)))
    return {"_firsts": firsts, "_totals": totals, "_seconds": time.perf_counter() - started}


def merged(results: list[dict]) -> dict:
    firsts = [f for r in results for f in r["_firsts"]]
    totals = [t for r in results for t in r["_totals"]]
    out = {"ttfb": summary_ms(firsts), "total": summary_ms(totals), "_firsts": firsts}
    if "_seconds" in results[0]:
        out["streams_per_s"] = round(len(firsts) / sum(r["_seconds"] for r in results), 1)
    return out


def compare(raw: dict, through: dict, cpu_seconds_used: float) -> dict:
    public = lambda result: {k: v for k, v in result.items() if not k.startswith("_")}  # noqa: E731
    return {
        "raw_fake": public(raw), "modelpilot": public(through),
        "overhead_p50_ms": round((percentile(through["_firsts"], 50) - percentile(raw["_firsts"], 50)) * 1000, 2),
        "overhead_p95_ms": round((percentile(through["_firsts"], 95) - percentile(raw["_firsts"], 95)) * 1000, 2),
        "server_cpu_ms_per_chat": round(cpu_seconds_used * 1000 / len(through["_firsts"]), 2),
    }


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


def fresh_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200))


async def run(fake_url: str, chat_url: str, builtin_url: str, token: str, server_pid: int) -> dict:
    raw_url = f"{fake_url}/chat/completions"
    raw_body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "system", "content": "You are a bench."},
                             {"role": "user", "content": "What do you sell?"}]}
    raw = (raw_url, raw_body, {"Authorization": "Bearer sk-bench-0123456789"})
    through = (chat_url, {"message": "What do you sell?"}, {"Authorization": f"Bearer {token}"})
    paced_question = "[[slow]] What do you sell?"
    raw_paced = (raw_url, {**raw_body, "messages": [*raw_body["messages"][:1], {"role": "user", "content": paced_question}]},
                 raw[2])
    through_paced = (chat_url, {"message": paced_question}, through[2])
    rounds = lambda n, times: lambda c, target: in_rounds(c, *target, n, times)  # noqa: E731
    window = lambda seconds, stagger=0.0: lambda c, target: steady(c, *target, CONCURRENCY, seconds, stagger)  # noqa: E731
    # name -> (one slice of the measurement, slices, raw target, ModelPilot target). Raw and ModelPilot
    # slices alternate, so both see the same load from whatever else runs on this shared machine.
    scenarios = {
        "concurrency_1": (rounds(1, SEQUENTIAL_ROUNDS // 4), 4, raw, through),
        f"burst_{CONCURRENCY}": (rounds(CONCURRENCY, 1), BURST_ROUNDS, raw, through),
        f"steady_{CONCURRENCY}": (window(STEADY_SECONDS / 2), 2, raw, through),
        # Paced answers last ~4 s: workers start 80 ms apart, so streams begin evenly, not in waves of 50.
        f"steady_{CONCURRENCY}_paced": (window(STEADY_SECONDS / 2 + 2, 4.0 / CONCURRENCY), 2, raw_paced,
                                        through_paced),
    }
    out = {}
    async with fresh_client() as client:
        for _ in range(5):  # warm-up: LiteLLM import, the server's connection pool to the fake
            await ttfb(client, chat_url, {"message": "warm up"}, through[2])
    for name, (measure_slice, slices, raw_target, mp_target) in scenarios.items():
        raw_results, mp_results, cpu_used = [], [], 0.0
        for _ in range(slices):
            # A fresh client per slice: no keep-alive connection the server closed while idle.
            async with fresh_client() as client:
                raw_results.append(await measure_slice(client, raw_target))
            async with fresh_client() as client:
                cpu_before = cpu_seconds(server_pid)
                mp_results.append(await measure_slice(client, mp_target))
                cpu_used += cpu_seconds(server_pid) - cpu_before
        out[name] = compare(merged(raw_results), merged(mp_results), cpu_used)
    # The same chat path without any provider call (the built-in model): what the rest costs.
    async with fresh_client() as client:
        cpu_before = cpu_seconds(server_pid)
        builtin = await in_rounds(client, builtin_url, through[1], through[2], 1, SEQUENTIAL_ROUNDS)
    out["builtin_model_cpu_ms_per_chat"] = round((cpu_seconds(server_pid) - cpu_before) * 1000 / SEQUENTIAL_ROUNDS, 2)
    out["builtin_model_ttfb"] = summary_ms(builtin["_firsts"])
    return out


def measure_backend(python: str, fake_url: str, env: dict) -> dict:
    """One server (SQLite in a fresh data dir, or the Postgres in env) measured through every scenario."""
    data_dir = tempfile.mkdtemp(prefix="mp-bench-chat-")
    server, line = start_process([python, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
                                  "--log-level", "warning"], "ModelPilot", env)
    base = line.split(" on ", 1)[1].split()[0]
    try:
        chat_url, builtin_url, token = setup_workspace(base, fake_url)
        results = asyncio.run(run(fake_url, chat_url, builtin_url, token, server.pid))
        results["server_rss_mb"] = round(rss_mb(server.pid), 1)
        results["load_average_after"] = os.getloadavg()
        return results
    finally:
        server.terminate()
        server.wait(timeout=15)


def postgres_url() -> tuple[str, bool]:
    """MP_BENCH_DATABASE_URL (an empty database), else a fresh one on the tests' own Postgres."""
    if os.environ.get("MP_BENCH_DATABASE_URL"):
        return os.environ["MP_BENCH_DATABASE_URL"], False
    sys.path.insert(0, str(ROOT))
    from tests.pg_support import fresh_database

    return fresh_database(migrated=False), True


def ratios(sqlite: dict, postgres: dict) -> dict:
    """Postgres / SQLite for what a chat costs the server, at 1 and at 50 streams."""
    out = {}
    for name in ("concurrency_1", f"steady_{CONCURRENCY}", f"steady_{CONCURRENCY}_paced"):
        for key in ("server_cpu_ms_per_chat", "overhead_p50_ms"):
            a, b = sqlite[name][key], postgres[name][key]
            # Under a loaded machine an overhead can come out negative: no ratio then.
            out[f"{name}.{key}"] = round(b / a, 2) if a > 0 and b > 0 else None
        a, b = (r[name]["modelpilot"].get("streams_per_s") for r in (sqlite, postgres))
        if a and b:
            out[f"{name}.streams_per_s"] = round(b / a, 2)
    return out


def main() -> None:
    """SQLite, then Postgres (unless --sqlite-only), in the same run; the ratio is printed."""
    through_litellm = "--litellm" in sys.argv[1:]
    python = sys.executable
    fake, line = start_process([python, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    env = {"MODELPILOT_LLM_DIRECT_OPENAI": "false" if through_litellm else "true"}
    try:
        results = {"path": "litellm" if through_litellm else "direct", "load_average_before": os.getloadavg()}
        results["sqlite"] = measure_backend(python, fake_url, env)
        if "--sqlite-only" not in sys.argv[1:]:
            url, ours = postgres_url()
            try:
                results["postgres"] = measure_backend(python, fake_url, {**env, "MODELPILOT_DATABASE_URL": url})
            finally:
                if ours:
                    from tests.pg_support import drop_database

                    drop_database(url)
            results["postgres_over_sqlite"] = ratios(results["sqlite"], results["postgres"])
            print("Postgres / SQLite:", results["postgres_over_sqlite"])
        results["goal"] = f"overhead at {CONCURRENCY} concurrent: p50 < 15 ms, p95 < 50 ms"
        write_results("chat_overhead_litellm" if through_litellm else "chat_overhead", results)
    finally:
        fake.terminate()
        fake.wait(timeout=15)


if __name__ == "__main__":
    main()
