"""What the OpenAI-compatible /v1/chat/completions adds over the native chat endpoint.

One server (`modelpilot serve`, SQLite), the fake OpenAI-compatible model (tests/fakes/llm.py),
one bot, one API token: streams one after another through the native route
(`POST /api/v1/workspaces/{ws}/chatbots/{bot}/chat`) and through `/v1/chat/completions` with
`stream: true` and `stream_options.include_usage`, in alternating slices so both see the same
machine. Reports time to the first byte and to the end of the stream (p50, p95) for each, the
p50 differences (goal: the whole stream ≤ 1 ms slower at p50), and server CPU per chat for each.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time

import httpx

from _common import percentile, summary_ms, write_results
from chat_overhead import cpu_seconds, start_process

SLICES = 12
PER_SLICE = 15


def setup(base: str, fake_url: str) -> tuple[str, str, str]:
    with httpx.Client(base_url=base, timeout=30) as api:
        body = {"email": "bench@example.com", "password": "a long enough passphrase", "name": "Bench",
                "workspace_name": "Bench"}
        ws = api.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
        token = api.post(f"/api/v1/workspaces/{ws}/api-tokens", json={"name": "bench", "role": "admin"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        api.put(f"/api/v1/workspaces/{ws}/providers/openai", json={"api_key": "sk-bench-0123456789",
                                                                   "api_base": fake_url}, headers=auth)
        bot = api.post(f"/api/v1/workspaces/{ws}/chatbots", json={"name": "Bench", "model": "gpt-4o-mini"},
                       headers=auth).json()
    return f"{base}/api/v1/workspaces/{ws}/chatbots/{bot['id']}/chat", bot["slug"], token


async def one(client: httpx.AsyncClient, url: str, body: dict, headers: dict) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for _ in response.aiter_raw():
            if first is None:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


async def measure(base: str, native_url: str, slug: str, token: str, pid: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    routes = {
        "native": (native_url, {"message": "What do you sell?"}),
        "openai": (f"{base}/v1/chat/completions", {"model": slug, "stream": True,
                                                    "stream_options": {"include_usage": True},
                                                    "messages": [{"role": "user", "content": "What do you sell?"}]}),
    }
    seen = {name: {"first": [], "total": [], "cpu": 0.0} for name in routes}
    async with httpx.AsyncClient(timeout=30) as client:
        for name, (url, body) in routes.items():  # warm-up: imports, pools, caches
            for _ in range(10):
                await one(client, url, body, headers)
        for _ in range(SLICES):
            for name, (url, body) in routes.items():
                cpu_before = cpu_seconds(pid)
                for _ in range(PER_SLICE):
                    first, total = await one(client, url, body, headers)
                    seen[name]["first"].append(first)
                    seen[name]["total"].append(total)
                seen[name]["cpu"] += cpu_seconds(pid) - cpu_before
    out = {name: {"first_byte": summary_ms(s["first"]), "whole_stream": summary_ms(s["total"]),
                  "server_cpu_ms_per_chat": round(s["cpu"] * 1000 / len(s["first"]), 3)} for name, s in seen.items()}
    p50 = {name: {kind: percentile([v * 1000 for v in seen[name][kind]], 50) for kind in ("first", "total")}
           for name in seen}
    out["p50_difference_ms"] = {"first_byte": round(p50["openai"]["first"] - p50["native"]["first"], 3),
                                "whole_stream": round(p50["openai"]["total"] - p50["native"]["total"], 3)}
    out["cpu_ratio_openai_over_native"] = round(out["openai"]["server_cpu_ms_per_chat"]
                                                / out["native"]["server_cpu_ms_per_chat"], 3)
    out["goal"] = "whole-stream p50 difference <= 1 ms"
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return out


def main() -> None:
    python = sys.executable
    # The per-token message limit would stop the run: what is measured here is the path, not the limit.
    env = {"LITELLM_OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1", "MODELPILOT_API_MESSAGES_PER_MINUTE": "100000"}
    fake, line = start_process([python, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    data_dir = tempfile.mkdtemp(prefix="mp-bench-openai-")
    server = None
    try:
        server, line = start_process([python, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
                                      "--log-level", "warning"], "ModelPilot", env)
        base = line.split(" on ", 1)[1].split()[0]
        native_url, slug, token = setup(base, fake_url)
        results = {"load_average_before": [round(x, 2) for x in os.getloadavg()],
                   **asyncio.run(measure(base, native_url, slug, token, server.pid))}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        fake.terminate()
    write_results("openai_compat", results)


if __name__ == "__main__":
    main()
