"""MCP tools in the chat's tool loop, against a real MCP server (official SDK) on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from tests.actions.conftest import GOOD_KEY, chat, conversation, text_of, tool_events, use_tools
from tests.fakes.llm import ANSWER, TOOL_ANSWER, TOOL_PREAMBLE
from tests.mcpservers.remote_server import RemoteMcp
from tests.support import Api

TOKEN = "mcp-token-0123456789-secret"


@pytest.fixture
def remote():
    running = RemoteMcp()
    running.required_token = TOKEN
    yield running
    running.stop()


@pytest.fixture
def mcp_bot(owner: Api, fake_llm, remote) -> tuple[dict, dict]:
    owner.add_provider(owner.ws, "openai", GOOD_KEY, fake_llm.url)
    server = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/mcp-servers", 201,
                      json={"name": "Orders", "url": remote.url, "headers": {"Authorization": f"Bearer {TOKEN}"}})
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    use_tools(owner, bot, [{"type": "mcp", "server_id": server["id"], "tool": "echo"},
                           {"type": "mcp", "server_id": server["id"], "tool": "fail"}])
    return bot, server


def test_an_mcp_tool_is_offered_called_and_logged(owner, mcp_bot, fake_llm):
    bot, _ = mcp_bot
    start = len(fake_llm.requests)
    events = chat(owner, bot, 'Echo please [[tool:echo {"text": "hi", "times": 2}]]')
    assert tool_events(events) == [("echo", "running"), ("echo", "done")]
    assert text_of(events) == TOOL_PREAMBLE + TOOL_ANSWER
    first, second = fake_llm.requests[start:]
    offered = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert set(offered) == {"echo", "fail"} and "text" in offered["echo"]["parameters"]["properties"]
    result = second["messages"][-1]["content"]
    assert result.startswith('<tool_result name="echo" status="done">') and "hihi" in result
    assert TOKEN not in json.dumps(fake_llm.requests[start:])
    logged = conversation(owner, events[-1]["conversation_id"])
    call = logged["messages"][1]["tool_calls"][0]
    assert (call["type"], call["name"], call["status"]) == ("mcp", "echo", "done")
    assert call["arguments"] == {"text": "hi", "times": 2} and TOKEN not in json.dumps(logged)


def test_mcp_arguments_are_checked_against_its_schema_first(owner, mcp_bot, fake_llm):
    bot, _ = mcp_bot
    events = chat(owner, bot, 'Echo [[tool:echo {"times": "many"}]]')
    assert tool_events(events) == []
    told = fake_llm.requests[-1]["messages"][-1]["content"]
    assert "do not fit" in told and "text" in told
    call = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"][0]
    assert call["status"] == "error" and call["latency_ms"] is None  # never sent


def test_a_failing_mcp_tool_is_a_tool_error_with_its_reason(owner, mcp_bot, fake_llm):
    bot, _ = mcp_bot
    events = chat(owner, bot, 'Check [[tool:fail {"order_id": "42"}]]')
    assert tool_events(events) == [("fail", "running"), ("fail", "error")]
    assert "Order 42 does not exist" in fake_llm.requests[-1]["messages"][-1]["content"]
    assert events[-1]["done"] is True


def test_a_server_that_is_down_leaves_its_tools_out_and_the_chat_answers(owner, mcp_bot, fake_llm, remote):
    bot, server = mcp_bot
    remote.stop()
    start = len(fake_llm.requests)
    events = chat(owner, bot, 'Echo [[tool:echo {"text": "x"}]]')
    assert tool_events(events) == [] and text_of(events) == ANSWER and events[-1]["done"] is True
    assert not fake_llm.requests[start].get("tools")
    owner.ok("DELETE", f"/api/v1/workspaces/{owner.ws}/mcp-servers/{server['id']}", 204)
    # The bot keeps its picks of the deleted server and can still be saved.
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
             json={"tools": [{"type": "mcp", "server_id": server["id"], "tool": "echo"}]})
    assert chat(owner, bot, "Hello again")[-1]["done"] is True


def test_a_pick_of_an_unknown_mcp_server_is_400(owner, bot):
    response = owner.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
                           json={"tools": [{"type": "mcp", "server_id": "nope", "tool": "echo"}]})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "tools[0]"
    response = owner.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
                           json={"tools": [{"type": "mcp", "server_id": "x"}]})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "tools[0]"
