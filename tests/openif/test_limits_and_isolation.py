"""Quota (402), the per-token rate limit (429) and tenancy (another workspace's token: 404),
each raised by the official openai SDK as the exception it names, and by the MCP tools as an
error result."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tests.billing.test_chat_quota import TINY_PLANS, put_on_tiny_plan
from tests.openif.support import connect_fake_llm, mcp_run, new_token, openai_client
from tests.support import Api

ASK = [{"role": "user", "content": "Hi"}]


def test_over_quota_is_a_402_status_error_before_any_upstream_call(server_factory, tmp_path: Path, fake_llm) -> None:
    plans = tmp_path / "tiny.toml"
    plans.write_text(TINY_PLANS)
    live = server_factory(plans_file=str(plans))
    with Api(live.url) as owner:
        owner.setup_owner()
        connect_fake_llm(owner, fake_llm)
        owner.create_bot(owner.ws, name="Quota bot", model="gpt-4o-mini")
        put_on_tiny_plan(live, owner.ws)
        client = openai_client(live.url, new_token(owner))
        for _ in range(2):
            client.chat.completions.create(model="quota-bot", messages=ASK)
        calls = len(fake_llm.requests)
        for stream in (False, True):
            with pytest.raises(openai.APIStatusError) as refused:
                client.chat.completions.create(model="quota-bot", messages=ASK, stream=stream)
            assert refused.value.status_code == 402
            assert refused.value.body["type"] == "insufficient_quota" and "message limit" in refused.value.body["message"]
        assert len(fake_llm.requests) == calls
        refused = mcp_run(live.url, new_token(owner), "legacy",
                          lambda client: client.call_tool("ask", {"chatbot": "quota-bot", "question": "Hi"}))
        assert refused.is_error and "message limit" in refused.content[0].text
        assert len(fake_llm.requests) == calls


def test_the_per_token_message_limit_is_a_rate_limit_error_with_retry_after(server_factory, fake_llm) -> None:
    live = server_factory(api_messages_per_minute=2)
    with Api(live.url) as owner:
        owner.setup_owner()
        connect_fake_llm(owner, fake_llm)
        owner.create_bot(owner.ws, name="Busy bot", model="gpt-4o-mini")
        token = new_token(owner)
        client = openai_client(live.url, token)
        for _ in range(2):
            client.chat.completions.create(model="busy-bot", messages=ASK)
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(model="busy-bot", messages=ASK)
        assert limited.value.body["code"] == "rate_limit_exceeded"
        assert int(limited.value.response.headers["retry-after"]) >= 1
        asked = mcp_run(live.url, token, "legacy",
                        lambda client: client.call_tool("ask", {"chatbot": "busy-bot", "question": "Hi"}))
        assert asked.is_error and "Rate limit" in asked.content[0].text  # the same budget as /v1
        other = openai_client(live.url, new_token(owner))  # the limit is per token
        assert other.chat.completions.create(model="busy-bot", messages=ASK).choices[0].message.content


def test_another_workspaces_token_can_neither_see_nor_use_a_bot(server_factory, fake_llm) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as a, Api(live.url) as b:
        a.setup_owner("a@example.com", "A")
        b.signup("b@example.com", "B")
        connect_fake_llm(a, fake_llm)
        bot = a.create_bot(a.ws, name="Secret bot", model="gpt-4o-mini")
        b.create_bot(b.ws, name="Own bot", model="builtin/extractive")
        b_client = openai_client(live.url, new_token(b, "admin"))
        assert [m.id for m in b_client.models.list().data] == ["own-bot"]
        for model in ("secret-bot", bot["id"]):
            with pytest.raises(openai.NotFoundError):
                b_client.chat.completions.create(model=model, messages=ASK)
            with pytest.raises(openai.NotFoundError):
                b_client.models.retrieve(model)
        # A session cookie names no workspace: /v1 takes tokens only.
        assert b.get("/v1/models").status_code == 401
        assert b.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401
