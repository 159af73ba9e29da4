"""/mcp with the official mcp client: both protocol eras (the initialize handshake and the 2026
per-request form), tools with their annotations, ask (and continuing a session) and search."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.llm import ANSWER
from tests.openif.support import connect_fake_llm, conversation, mcp_run as run, new_token
from tests.shared_server import owner, server  # noqa: F401 (module-scoped fixtures)
from tests.support import Api, eventually

FACT = "Our Lisbon office opens at eight thirty every weekday morning."


@pytest.fixture(scope="module")
def world(owner: Api, fake_llm) -> dict:  # noqa: F811
    connect_fake_llm(owner, fake_llm)
    bot = owner.create_bot(owner.ws, name="Office Bot", model="gpt-4o-mini")
    doc = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents/text", 202,
                   json={"title": "Lisbon office", "text": FACT})
    eventually(lambda: owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents/{doc['id']}"),
               lambda d: d["status"] == "indexed", timeout=90, interval=0.1, what="the document indexed")
    return {"bot": bot, "doc": doc, "token": new_token(owner, "editor"), "viewer": new_token(owner, "viewer")}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_tools_are_listed_with_annotations(world, server, mode) -> None:  # noqa: F811
    async def script(client):
        return client.protocol_version, (await client.list_tools()).tools

    version, tools = run(server.url, world["token"], mode, script)
    assert version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"list_chatbots", "ask", "search"}
    assert by_name["search"].annotations.read_only_hint is True
    assert by_name["list_chatbots"].annotations.read_only_hint is True
    assert by_name["ask"].annotations.read_only_hint is False
    assert by_name["ask"].input_schema["required"] == ["chatbot", "question"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_ask_answers_with_sources_and_a_session_continues(world, owner, server, fake_llm, mode) -> None:  # noqa: F811
    async def script(client):
        listed = await client.call_tool("list_chatbots", {})
        first = await client.call_tool("ask", {"chatbot": "office-bot", "question": "When does Lisbon open?"})
        again = await client.call_tool("ask", {"chatbot": world["bot"]["id"], "question": "And on Friday?",
                                               "session_id": first.structured_content["session_id"]})
        return listed, first, again

    listed, first, again = run(server.url, world["token"], mode, script)
    assert [b["slug"] for b in listed.structured_content["chatbots"]] == ["office-bot"]
    assert not first.is_error and first.structured_content["answer"] == ANSWER
    assert first.content[0].text.startswith(ANSWER) and "Lisbon office" in first.content[0].text
    assert [s["document_id"] for s in first.structured_content["sources"]] == [world["doc"]["id"]]
    assert again.structured_content["conversation_id"] == first.structured_content["conversation_id"]
    sent = fake_llm.requests[-1]["messages"]
    assert {"role": "user", "content": "When does Lisbon open?"} in sent  # the session's saved history
    logged = conversation(owner, first.structured_content["conversation_id"])
    assert logged["channel"] == "api" and len(logged["messages"]) == 4


def test_search_returns_chunks_with_scores(world, server) -> None:  # noqa: F811
    async def script(client):
        return await client.call_tool("search", {"chatbot": "office-bot", "query": "Lisbon opening time", "k": 3})

    found = run(server.url, world["viewer"], "legacy", script)  # a viewer may search
    results = found.structured_content["results"]
    assert results[0]["text"] == FACT and results[0]["title"] == "Lisbon office"
    assert isinstance(results[0]["score"], float) and results[0]["score"] > 0


def test_refusals_are_error_results_the_model_can_read(world, server) -> None:  # noqa: F811
    async def script(client):
        unknown = await client.call_tool("ask", {"chatbot": "nobody", "question": "Hi"})
        bad_k = await client.call_tool("search", {"chatbot": "office-bot", "query": "x", "k": 0})
        return unknown, bad_k

    unknown, bad_k = run(server.url, world["token"], "legacy", script)
    assert unknown.is_error and "nobody" in unknown.content[0].text
    assert bad_k.is_error and "k" in bad_k.content[0].text

    async def as_viewer(client):
        return await client.call_tool("ask", {"chatbot": "office-bot", "question": "Hi"})

    refused = run(server.url, world["viewer"], "legacy", as_viewer)
    assert refused.is_error and "editor" in refused.content[0].text


def test_a_bad_token_is_401_before_any_mcp_handling(server) -> None:  # noqa: F811
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer mp_wrong"}, {"Authorization": "Bearer sk-openai"}):
        response = httpx.post(f"{server.url}/mcp", json=initialize, headers={**headers, **auth})
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"

    async def script(client):
        return await client.list_tools()

    with pytest.raises(Exception):
        run(server.url, "mp_wrong", "legacy", script)
