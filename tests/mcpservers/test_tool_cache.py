"""The tool-list memory: keyed by the server's updated_at (so a PATCH on another node retires
it too), failures kept shorter, and nothing kept when caching is off."""

from __future__ import annotations

import msgspec

from modelpilot.mcpservers import tool_cache
from modelpilot.mcpservers.entities import ListedTool, McpServer

TOOL = ListedTool(name="echo", description="", input_schema={"type": "object"}, read_only=None)


def _server(updated_at: str = "2026-01-01T00:00:00.000Z", server_id: str = "srv-cache-test") -> McpServer:
    return McpServer(id=server_id, workspace_id="ws", name="n", url="https://x.example/mcp", header_names=(),
                     headers_sealed=None, created_at=updated_at, updated_at=updated_at)


def test_a_changed_server_does_not_see_the_old_list():
    old = _server()
    tool_cache.put_tools(old, [TOOL], 60)
    assert tool_cache.get(old).tools == (TOOL,)
    changed = msgspec.structs.replace(old, updated_at="2026-01-01T00:00:01.000Z")
    assert tool_cache.get(changed) is None
    tool_cache.forget(old.id)
    assert tool_cache.get(old) is None


def test_failures_are_remembered_for_at_most_the_failure_window(monkeypatch):
    server = _server(server_id="srv-cache-fail")
    now = [1000.0]
    monkeypatch.setattr(tool_cache.time, "monotonic", lambda: now[0])
    tool_cache.put_failure(server, "down", 600)
    assert tool_cache.get(server).error == "down" and tool_cache.get(server).tools is None
    now[0] += tool_cache.FAILURE_SECONDS + 0.1
    assert tool_cache.get(server) is None
    tool_cache.put_tools(server, [TOOL], 600)
    now[0] += 599
    assert tool_cache.get(server).tools == (TOOL,)
    now[0] += 2
    assert tool_cache.get(server) is None


def test_zero_seconds_keeps_nothing():
    server = _server(server_id="srv-cache-off")
    tool_cache.put_tools(server, [TOOL], 0)
    tool_cache.put_failure(server, "down", 0)
    assert tool_cache.get(server) is None


def test_the_memory_stays_bounded():
    for i in range(tool_cache.MAX_ENTRIES + 50):
        tool_cache.put_tools(_server(server_id=f"srv-bound-{i}"), [TOOL], 60)
    assert len(tool_cache._entries) <= tool_cache.MAX_ENTRIES
    for i in range(tool_cache.MAX_ENTRIES + 50):
        tool_cache.forget(f"srv-bound-{i}")
