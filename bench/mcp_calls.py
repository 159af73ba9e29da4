"""What one MCP tool call costs ModelPilot beyond the remote tool's own time.

A real MCP server (the official SDK's MCPServer, Streamable HTTP, tests/mcpservers/remote_server.py)
runs on 127.0.0.1 in this process; its `echo` tool does no work, so every millisecond measured is
transport, SDK and our own code. Three ways of calling it, interleaved in SLICES rounds so all
see the same machine:
  sdk_session   baseline: one SDK client session kept open, one tools/call per iteration (what
                a pooled client would cost; the floor for this SDK and server).
  sdk_fresh     the SDK as ModelPilot drives it, with a plain httpx2 client: connect, call, close.
  modelpilot    mcpservers/remote.call_tool: the same on the SSRF-guarded transport with the
                response cap, plus the result's text.
Ratios are against sdk_session and sdk_fresh measured in the same run. Goal: modelpilot within
a few ms of sdk_fresh (the guard is cheap); the gap to sdk_session is the price of a session per
call, which keeps a slow or broken server from holding anything between calls.
"""

from __future__ import annotations

import asyncio
import os
import time

from _common import summary_ms, write_results

CALLS = 60
SLICES = 3


_SSL: list = []


async def _fresh_plain(url: str) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    if not _SSL:  # as the guarded transport does: the CA bundle loaded once, not per client
        _SSL.append(httpx2.create_ssl_context(trust_env=False))
    async with httpx2.AsyncClient(trust_env=False, verify=_SSL[0]) as http:
        async with Client(streamable_http_client(url, http_client=http), cache=None) as client:
            await client.call_tool("echo", {"text": "hi"})


async def measure(url: str) -> dict[str, list[float]]:
    from mcp import Client

    from modelpilot.mcpservers import remote
    from modelpilot.settings import Settings

    settings = Settings(outbound_allow_private=True)
    times: dict[str, list[float]] = {"sdk_session": [], "sdk_fresh": [], "modelpilot": []}
    async with Client(url, cache=None) as session:
        await session.call_tool("echo", {"text": "warm"})
        await _fresh_plain(url)
        await remote.call_tool(settings, url, {}, "echo", {"text": "warm"}, 10)
        for _ in range(SLICES):
            for _ in range(CALLS // SLICES):
                started = time.perf_counter()
                await session.call_tool("echo", {"text": "hi"})
                times["sdk_session"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await _fresh_plain(url)
                times["sdk_fresh"].append(time.perf_counter() - started)
                started = time.perf_counter()
                ok, _ = await remote.call_tool(settings, url, {}, "echo", {"text": "hi"}, 10)
                assert ok
                times["modelpilot"].append(time.perf_counter() - started)
    return times


def main() -> None:
    from tests.mcpservers.remote_server import RemoteMcp

    server = RemoteMcp()
    try:
        load_before = os.getloadavg()
        times = asyncio.run(measure(server.url))
        load_after = os.getloadavg()
    finally:
        server.stop()
    results = {name: summary_ms(values) for name, values in times.items()}
    p50 = {name: results[name]["p50_ms"] for name in results}
    results["ratios"] = {
        "modelpilot_vs_sdk_fresh_p50": round(p50["modelpilot"] / p50["sdk_fresh"], 2),
        "modelpilot_vs_sdk_session_p50": round(p50["modelpilot"] / p50["sdk_session"], 2),
        "modelpilot_minus_sdk_fresh_p50_ms": round(p50["modelpilot"] - p50["sdk_fresh"], 2),
    }
    results["load_average"] = {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in load_after]}
    write_results("mcp_calls", results)


if __name__ == "__main__":
    main()
