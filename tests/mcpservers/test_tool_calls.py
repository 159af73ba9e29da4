"""The interface the chat's tool loop uses: `tools_for` and `call_tool`, against a real MCP
server built with the official SDK, through the real database (both backends)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

from modelpilot.mcpservers import service
from modelpilot.mcpservers.entities import RemoteResult, RemoteTool
from tests.mcpservers.conftest import LIST_TIMEOUT, run_with_db
from tests.mcpservers.remote_server import RemoteMcp


def _add(admin, url: str, name: str = "Orders", headers: dict | None = None) -> dict:
    return admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/mcp-servers", 201,
                    json={"name": name, "url": url, "headers": headers or {}})


def _tools_for(live, admin, picks):
    return run_with_db(live.settings, lambda db: service.tools_for(db, live.settings, admin.ws, picks))


def _call(live, admin, server_id, tool, arguments, timeout_s=5.0, max_bytes=32_000, settings=None):
    settings = settings or live.settings
    return run_with_db(live.settings, lambda db: service.call_tool(
        db, settings, admin.ws, server_id, tool, arguments, timeout_s=timeout_s, max_bytes=max_bytes))


def test_picked_tools_come_back_in_the_order_picked_with_their_schemas(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    tools = _tools_for(live, admin, [(server["id"], "fail"), (server["id"], "echo"), (server["id"], "not-there")])
    assert [type(tool) for tool in tools] == [RemoteTool, RemoteTool]
    assert [tool.name for tool in tools] == ["fail", "echo"]
    echo = tools[1]
    assert echo.server_id == server["id"] and echo.description == "Repeat the arguments back as JSON."
    assert echo.input_schema["type"] == "object" and set(echo.input_schema["properties"]) == {"text", "times"}
    assert echo.input_schema["required"] == ["text"]


def test_a_call_returns_the_tools_text_and_its_latency(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url, headers={"Authorization": "Bearer tok-123"})
    remote.required_token = "tok-123"
    result = _call(live, admin, server["id"], "echo", {"text": "ab", "times": 3})
    assert isinstance(result, RemoteResult) and result.ok and result.error is None
    assert json.loads(result.text) == {"text": "ab", "times": 3, "echo": "ababab"}
    assert 0 <= result.latency_ms < 5000
    calls = [r for r in remote.requests if r.get("mcp-method") == "tools/call"]
    assert calls and all(r["authorization"] == "Bearer tok-123" for r in calls)


def test_a_tool_that_reports_an_error_gives_ok_false_with_the_servers_text(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    result = _call(live, admin, server["id"], "fail", {"order_id": "A-17"})
    assert result.ok is False
    assert "Order A-17 does not exist" in result.text and result.error == result.text  # the server's words


def test_a_huge_answer_is_cut_to_max_bytes(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    result = _call(live, admin, server["id"], "huge", {"size": 300_000}, max_bytes=4096)
    assert result.ok
    assert len(result.text.encode()) <= 4096
    assert result.text.startswith("0123456789") and "300000 bytes in all" in result.text


def test_an_answer_larger_than_the_wire_limit_is_refused_not_read_whole(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    result = _call(live, admin, server["id"], "huge", {"size": 5_000_000}, timeout_s=20)
    assert result.ok is False and result.text == ""
    assert "sent more than 4000000 bytes" in result.error


def test_non_text_content_is_summarised(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    result = _call(live, admin, server["id"], "picture", {})
    assert result.ok
    assert result.text.startswith("A red dot:\n[image content: image/png, about ")
    assert "PNG" not in result.text and "iVBO" not in result.text


def test_a_call_slower_than_the_callers_timeout_degrades_to_an_error(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    started = time.monotonic()
    result = _call(live, admin, server["id"], "slow", {"seconds": 5}, timeout_s=0.8)
    assert time.monotonic() - started < 4
    assert result.ok is False and "did not answer within 0.8 s" in result.error
    assert result.latency_ms >= 700


def test_a_server_that_is_down_leaves_its_tools_out_and_calls_fail_softly(mcp_app):
    live, admin = mcp_app
    gone = RemoteMcp()
    server = _add(admin, gone.url)
    gone.stop()
    assert _tools_for(live, admin, [(server["id"], "echo")]) == []
    result = _call(live, admin, server["id"], "echo", {"text": "x"})
    assert result.ok is False and result.error.startswith("This tool is unavailable: Could not connect")


def test_a_stalled_server_costs_one_list_timeout_then_is_remembered_as_failing(mcp_app, remote):
    live, admin = mcp_app
    healthy = RemoteMcp(prefix="ok_")
    try:
        stalled, fine = _add(admin, remote.url, "Stalled"), _add(admin, healthy.url, "Fine")
        remote.stall_seconds = 10
        picks = [(stalled["id"], "echo"), (fine["id"], "ok_echo")]
        started = time.monotonic()
        assert [t.name for t in _tools_for(live, admin, picks)] == ["ok_echo"]
        assert LIST_TIMEOUT - 0.2 < time.monotonic() - started < LIST_TIMEOUT + 3
        started = time.monotonic()
        assert [t.name for t in _tools_for(live, admin, picks)] == ["ok_echo"]  # the failure is remembered
        assert time.monotonic() - started < LIST_TIMEOUT - 0.5
    finally:
        healthy.stop()


def test_tool_lists_are_cached_and_a_patch_drops_the_cache(mcp_app, remote):
    live, admin = mcp_app
    other = RemoteMcp(prefix="v2_")
    try:
        server = _add(admin, remote.url)
        assert [t.name for t in _tools_for(live, admin, [(server["id"], "echo")])] == ["echo"]
        listed = len([r for r in remote.requests if r.get("mcp-method") == "tools/list"])
        assert [t.name for t in _tools_for(live, admin, [(server["id"], "echo")])] == ["echo"]
        assert len([r for r in remote.requests if r.get("mcp-method") == "tools/list"]) == listed
        admin.ok("PATCH", f"/api/v1/workspaces/{admin.ws}/mcp-servers/{server['id']}", json={"url": other.url})
        picks = [(server["id"], "echo"), (server["id"], "v2_echo")]
        assert [t.name for t in _tools_for(live, admin, picks)] == ["v2_echo"]
    finally:
        other.stop()


def test_a_deleted_servers_tools_are_unavailable(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    assert len(_tools_for(live, admin, [(server["id"], "echo")])) == 1
    admin.ok("DELETE", f"/api/v1/workspaces/{admin.ws}/mcp-servers/{server['id']}", 204)
    assert _tools_for(live, admin, [(server["id"], "echo")]) == []
    result = _call(live, admin, server["id"], "echo", {"text": "x"})
    assert result == RemoteResult(False, "", service.UNAVAILABLE_GONE, result.latency_ms)


def test_another_workspaces_server_is_not_reachable_through_the_interface(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    other_ws = admin.ok("POST", "/api/v1/workspaces", 201, json={"name": "Elsewhere"})["id"]
    assert run_with_db(live.settings, lambda db: service.tools_for(
        db, live.settings, other_ws, [(server["id"], "echo")])) == []
    result = run_with_db(live.settings, lambda db: service.call_tool(
        db, live.settings, other_ws, server["id"], "echo", {"text": "x"}, timeout_s=5, max_bytes=1000))
    assert result.ok is False and result.error == service.UNAVAILABLE_GONE
    assert not [r for r in remote.requests if r.get("mcp-method") == "tools/call"]


def test_without_the_allow_setting_a_loopback_server_is_refused_at_connect_time(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    strict = replace(live.settings, outbound_allow_private=False)
    result = _call(live, admin, server["id"], "echo", {"text": "x"}, settings=strict)
    assert result.ok is False and "private, loopback or link-local" in result.error
    assert "MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true" in result.error
    assert not remote.requests


def test_a_handshake_era_server_works_too(mcp_app, remote):
    """Most servers in the field predate server/discover: the client falls back to initialize."""
    live, admin = mcp_app
    remote.legacy_only = True
    server = _add(admin, remote.url, headers={"Authorization": "Bearer legacy"})
    assert [t.name for t in _tools_for(live, admin, [(server["id"], "echo")])] == ["echo"]
    result = _call(live, admin, server["id"], "echo", {"text": "old"})
    assert result.ok and json.loads(result.text)["echo"] == "old"
    assert remote.requests[0].get("mcp-method") == "server/discover"  # refused, then the handshake
    after = [r for r in remote.requests if r.get("mcp-method") != "server/discover"]
    assert after and all(r["authorization"] == "Bearer legacy" for r in after)
    versions = {r.get("mcp-protocol-version") for r in after} - {None}
    assert versions and all(v < "2026" for v in versions), versions
    assert any(r.get("mcp-session-id") for r in after)


def test_header_values_never_reach_the_logs(mcp_app, remote, caplog):
    import logging

    live, admin = mcp_app
    server = _add(admin, remote.url, headers={"Authorization": "Bearer sk-never-logged-77"})
    remote.required_token = "something-else"  # every request fails with 401, and is logged
    with caplog.at_level(logging.DEBUG):
        assert _tools_for(live, admin, [(server["id"], "echo")]) == []
        result = _call(live, admin, server["id"], "echo", {"text": "x"})
    assert result.ok is False and "HTTP 401" in result.error
    assert "left out of the tools" in caplog.text and "sk-never-logged-77" not in caplog.text
    assert "sk-never-logged-77" not in result.error


def test_a_server_echoing_our_key_back_has_it_redacted(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url, headers={"Authorization": "Bearer tok-echoed-back-991"})
    result = _call(live, admin, server["id"], "whoami", {})
    assert result.ok and result.text == "You sent [redacted]; your token is [redacted]"
    failed = _call(live, admin, server["id"], "whoami", {"fail": True})
    assert failed.ok is False and "tok-echoed" not in failed.text + failed.error and "[redacted]" in failed.error


def test_chats_that_find_the_cache_empty_together_share_one_listing(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    remote.stall_seconds = 0.5  # long enough for all five to arrive while the first is under way

    async def five(db):
        return await asyncio.gather(*(service.tools_for(db, live.settings, admin.ws, [(server["id"], "echo")])
                                      for _ in range(5)))

    results = run_with_db(live.settings, five)
    assert [[t.name for t in tools] for tools in results] == [["echo"]] * 5
    assert len([r for r in remote.requests if r.get("mcp-method") == "tools/list"]) == 1


def test_an_expired_list_stands_in_while_a_fresh_one_is_fetched(mcp_app, remote):
    """Once a server has been listed, a chat never waits for it again: when it starts to hang,
    the last list is offered (a call to it will then fail softly) while the refresh times out."""
    live, admin = mcp_app
    server = _add(admin, remote.url)
    quick = replace(live.settings, mcp_tools_cache_seconds=0.3)
    picks = [(server["id"], "echo")]

    async def twice(db):
        first = await service.tools_for(db, quick, admin.ws, picks)
        await asyncio.sleep(0.4)  # expired now
        remote.stall_seconds = 10
        started = time.monotonic()
        second = await service.tools_for(db, quick, admin.ws, picks)
        return first, second, time.monotonic() - started

    first, second, waited = run_with_db(live.settings, twice)
    assert [t.name for t in first] == [t.name for t in second] == ["echo"]
    assert waited < LIST_TIMEOUT / 2


def test_a_server_known_to_fail_is_not_waited_for_again(mcp_app, remote, monkeypatch):
    from modelpilot.mcpservers import tool_cache

    live, admin = mcp_app
    monkeypatch.setattr(tool_cache, "FAILURE_SECONDS", 0.3)
    server = _add(admin, remote.url)
    remote.stall_seconds = 10
    picks = [(server["id"], "echo")]

    async def after_failure(db):
        assert await service.tools_for(db, live.settings, admin.ws, picks) == []  # waits the list timeout
        await asyncio.sleep(0.4)  # the failure has expired: asked again, in the background
        started = time.monotonic()
        again = await service.tools_for(db, live.settings, admin.ws, picks)
        return again, time.monotonic() - started

    again, waited = run_with_db(live.settings, after_failure)
    assert again == [] and waited < LIST_TIMEOUT / 2
