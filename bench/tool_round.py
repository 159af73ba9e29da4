"""What one tool round costs ModelPilot itself: the chat with one action call, minus the upstream
model calls and the action's own time, against the same chat without tools, in the same run.

Subprocesses: the fake OpenAI-compatible model, a local action service, `modelpilot serve` (SQLite,
direct client). Each iteration measures, back to back (so all see the same load):
  raw_call     the fake model streaming a tool call (what round 1 costs upstream)
  raw_answer   the fake model answering after the tool's result (round 2 upstream)
  raw_action   GET on the action service (the action's own time)
  raw_plain    the fake model answering a plain question (the baseline's upstream)
  chat_plain   ModelPilot's chat without tools (the baseline)
  chat_tool    ModelPilot's chat whose model calls the action once, then answers
and reports overhead = (chat_tool - raw_call - raw_answer - raw_action) - (chat_plain - raw_plain),
each a whole stream's time, p50 and p95 over the iterations; plus an upper bound that subtracts
nothing (chat_tool - chat_plain: the extra round with its upstream call and action included; the raw
timings are taken by this script's httpx client, slower per request than the server's pooled
clients, so the subtraction above can come out below zero on a loaded machine), and the server's
CPU per chat with and without the tool round (load-independent). Goal: p50 <= 10 ms.
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

ITERATIONS = 150
WARMUP = 10
QUESTION = 'Where is order 1? [[tool:lookup_order {"order_id": "1"}]]'
SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}


def setup(base: str, fake_url: str, action_url: str) -> tuple[str, str, str]:
    with httpx.Client(base_url=base, timeout=60) as api:
        body = {"email": "bench@example.com", "password": "a long enough passphrase", "name": "Bench",
                "workspace_name": "Bench"}
        ws = api.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
        token = api.post(f"/api/v1/workspaces/{ws}/api-tokens", json={"name": "bench", "role": "admin"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        api.put(f"/api/v1/workspaces/{ws}/providers/openai", json={"api_key": "sk-bench-0123456789",
                                                                   "api_base": fake_url}, headers=auth)
        urls = []
        for with_tools in (False, True):
            bot = api.post(f"/api/v1/workspaces/{ws}/chatbots", json={"name": "Bench", "model": "gpt-4o-mini"},
                           headers=auth).json()
            if with_tools:
                action = api.post(f"/api/v1/workspaces/{ws}/chatbots/{bot['id']}/actions", headers=auth, json={
                    "name": "lookup_order", "description": "Look up an order.", "parameters": SCHEMA,
                    "url": action_url + "/orders/{order_id}", "headers": {"Authorization": "Bearer bench-secret"}})
                assert action.status_code == 201, action.text
                patched = api.patch(f"/api/v1/workspaces/{ws}/chatbots/{bot['id']}", headers=auth,
                                    json={"tools": [{"type": "action", "id": action.json()["id"]}]})
                assert patched.status_code == 200, patched.text
            urls.append(f"{base}/api/v1/workspaces/{ws}/chatbots/{bot['id']}/chat")
    return urls[0], urls[1], token


async def timed_stream(client: httpx.AsyncClient, url: str, body: dict, headers: dict) -> tuple[float, bytes]:
    started = time.perf_counter()
    chunks = []
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
    return time.perf_counter() - started, b"".join(chunks)


async def timed_get(client: httpx.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    response = await client.get(url, headers={"Authorization": "Bearer bench-secret"})
    assert response.status_code == 200
    return time.perf_counter() - started


def raw_bodies(tools: list[dict]) -> tuple[dict, dict, dict]:
    base = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True}}
    asked = [{"role": "system", "content": "You are a bench."}, {"role": "user", "content": QUESTION}]
    call = {"role": "assistant", "content": "Let me check. ", "tool_calls": [{"id": "call_fake_0", "type": "function",
            "function": {"name": "lookup_order", "arguments": '{"order_id": "1"}'}}]}
    result = {"role": "tool", "tool_call_id": "call_fake_0", "content": '<tool_result>{"status": "shipped"}</tool_result>'}
    plain = {**base, "messages": [asked[0], {"role": "user", "content": "What do you sell?"}]}
    return ({**base, "messages": asked, "tools": tools}, {**base, "messages": [*asked, call, result], "tools": tools},
            plain)


async def run(fake_url: str, action_url: str, plain_url: str, tool_url: str, token: str, pid: int) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    fake_auth = {"Authorization": "Bearer sk-bench-0123456789"}
    tools = [{"type": "function", "function": {"name": "lookup_order", "description": "Look up an order.",
                                               "parameters": SCHEMA}}]
    call_body, answer_body, plain_body = raw_bodies(tools)
    raw = f"{fake_url}/chat/completions"
    samples: dict[str, list[float]] = {k: [] for k in ("raw_call", "raw_answer", "raw_action", "raw_plain",
                                                       "chat_plain", "chat_tool")}
    cpu = {"plain": 0.0, "tool": 0.0}
    async with httpx.AsyncClient(timeout=60) as client:
        for number in range(WARMUP + ITERATIONS):
            keep = number >= WARMUP
            t_call, _ = await timed_stream(client, raw, call_body, fake_auth)
            t_answer, _ = await timed_stream(client, raw, answer_body, fake_auth)
            t_action = await timed_get(client, action_url + "/orders/1")
            t_plain, _ = await timed_stream(client, raw, plain_body, fake_auth)
            before = cpu_seconds(pid)
            c_plain, _ = await timed_stream(client, plain_url, {"message": "What do you sell?"}, auth)
            middle = cpu_seconds(pid)
            c_tool, body = await timed_stream(client, tool_url, {"message": QUESTION}, auth)
            after = cpu_seconds(pid)
            assert b'"status":"done"' in body, body[:500]
            if keep:
                for key, value in zip(samples, (t_call, t_answer, t_action, t_plain, c_plain, c_tool)):
                    samples[key].append(value)
                cpu["plain"] += middle - before
                cpu["tool"] += after - middle
    overhead = [(tool - call - answer - action) - (plain - raw_plain) for call, answer, action, raw_plain, plain, tool
                in zip(*samples.values())]
    # An upper bound needing no subtraction of client-side timings: the whole extra round (one more
    # upstream call and the action included) over the plain chat.
    extra = [tool - plain for plain, tool in zip(samples["chat_plain"], samples["chat_tool"])]
    return {"iterations": ITERATIONS, **{k: summary_ms(v) for k, v in samples.items()},
            "tool_chat_over_plain_p50_ms": round(percentile(extra, 50) * 1000, 2),
            "tool_chat_over_plain_p95_ms": round(percentile(extra, 95) * 1000, 2),
            "tool_chat_over_plain_ratio_p50": round(percentile(samples["chat_tool"], 50)
                                                    / percentile(samples["chat_plain"], 50), 2),
            "tool_round_overhead_p50_ms": round(percentile(overhead, 50) * 1000, 2),
            "tool_round_overhead_p95_ms": round(percentile(overhead, 95) * 1000, 2),
            "server_cpu_ms_per_chat_plain": round(cpu["plain"] * 1000 / ITERATIONS, 2),
            "server_cpu_ms_per_chat_tool": round(cpu["tool"] * 1000 / ITERATIONS, 2),
            "server_cpu_ms_per_tool_round": round((cpu["tool"] - cpu["plain"]) * 1000 / ITERATIONS, 2)}


def main() -> None:
    python = sys.executable
    fake, line = start_process([python, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    service, line = start_process([python, "-m", "tests.fakes.action_server"], "http://")
    action_url = line.strip()
    data_dir = tempfile.mkdtemp(prefix="mp-bench-tools-")
    env = {"MODELPILOT_OUTBOUND_ALLOW_PRIVATE": "true", "MODELPILOT_TOOL_CALLS_PER_CONVERSATION": "100000"}
    server, line = start_process([python, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
                                  "--log-level", "warning"], "ModelPilot", env)
    base = line.split(" on ", 1)[1].split()[0]
    try:
        results = {"backend": "sqlite", "path": "direct", "load_average_before": os.getloadavg()}
        plain_url, tool_url, token = setup(base, fake_url, action_url)
        results.update(asyncio.run(run(fake_url, action_url, plain_url, tool_url, token, server.pid)))
        results["load_average_after"] = os.getloadavg()
        results["goal"] = "one tool round, excluding upstream and action time: p50 <= 10 ms"
        write_results("tool_round", results)
    finally:
        for proc in (server, service, fake):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
