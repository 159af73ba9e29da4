"""Where a provider's api_base may lead (SSRF): base URLs only, private addresses only when the
operator allows them (MODELPILOT_PROVIDER_ALLOW_PRIVATE), and upstream words never shown to visitors.

The fake LLM listens on 127.0.0.1, a loopback address: it stands in for an internal service
(cloud metadata, a Docker socket) that a tenant admin points a provider at."""

from __future__ import annotations

import asyncio

import pytest

from modelpilot.chat.service import VISITOR_ERROR
from modelpilot.providers import llm
from modelpilot.providers.direct import DirectStream, close_shared_client, shared_session
from modelpilot.providers.egress import SETTING
from modelpilot.providers.errors import LLMError
from modelpilot.providers.llm import LLMCall
from tests.support import Api
from tests.widget_support import HOST_PAGE_ORIGIN, sse_events, widget_chat

KEY = "sk-tenant-secret-0123456789abcdefghij"


@pytest.fixture(params=["direct", "litellm"])
def llm_path(request) -> dict:
    return {"llm_direct_openai": request.param == "direct"}


def providers_path(client: Api, provider: str = "openai") -> str:
    return f"/api/v1/workspaces/{client.ws}/providers/{provider}"


@pytest.mark.parametrize("api_base, words", [
    ("http://10.0.0.5/v1?", "query"), ("http://10.0.0.5/anything?x=", "query"),
    ("http://169.254.169.254/latest/meta-data#", "fragment"), ("http://user:pw@example.com/v1", "user"),
    ("http://example.com@127.0.0.1:2375/v1", "user"), ("http://exa mple.com/v1", "space"),
    ("ftp://example.com", "http"), ("http://example.com:99999/v1", "http"),
])
def test_api_base_must_be_a_plain_base_url(owner: Api, api_base: str, words: str) -> None:
    response = owner.put(providers_path(owner), json={"api_key": KEY, "api_base": api_base})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == "api_base" and words in error["message"]
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/providers") == []


def closed_instance(server_factory, llm_path: dict, **settings) -> Api:
    live = server_factory(**llm_path, **settings)
    client = Api(live.url)
    client.setup_owner()
    return client


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_with_private_addresses_refused_neither_test_nor_chat_reaches_them(server_factory, fake_llm, llm_path,
                                                                         host) -> None:
    owner = closed_instance(server_factory, llm_path, provider_allow_private=False)
    api_base = fake_llm.url.replace("127.0.0.1", host)
    owner.add_provider(owner.ws, "openai", KEY, api_base)
    before = len(fake_llm.requests)
    tested = owner.ok("POST", providers_path(owner) + "/test", json={"model": "gpt-4o-mini"})
    assert tested["ok"] is False and tested["error"]["code"] == "provider_blocked"
    assert SETTING in tested["error"]["message"] and "127.0.0.1" in tested["error"]["message"]
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini", published=True, allowed_origins=[HOST_PAGE_ORIGIN])
    events = owner.chat(owner.ws, bot["id"], "hello")
    assert events[-1]["error"]["code"] == "provider_blocked" and SETTING in events[-1]["error"]["message"]
    visitor = sse_events(widget_chat(owner, bot["id"], "hello"))
    assert visitor[-1]["error"]["message"] == VISITOR_ERROR
    assert len(fake_llm.requests) == before  # nothing was ever sent there, the key least of all
    owner.close()


def test_open_signup_refuses_private_provider_urls_unless_the_operator_allows_them(server_factory, fake_llm,
                                                                                  llm_path) -> None:
    refused = closed_instance(server_factory, llm_path, open_signup=True)
    refused.add_provider(refused.ws, "openai", KEY, fake_llm.url)
    assert refused.ok("POST", providers_path(refused) + "/test", json={})["error"]["code"] == "provider_blocked"
    allowed = closed_instance(server_factory, llm_path, open_signup=True, provider_allow_private=True)
    allowed.add_provider(allowed.ws, "openai", KEY, fake_llm.url)
    assert allowed.ok("POST", providers_path(allowed) + "/test", json={})["ok"] is True
    for client in (refused, allowed):
        client.close()


def test_a_private_instance_reaches_a_local_model_by_default(server_factory, fake_llm, llm_path) -> None:
    owner = closed_instance(server_factory, llm_path)
    owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    assert owner.ok("POST", providers_path(owner) + "/test", json={})["ok"] is True
    owner.close()


def test_upstream_error_text_reaches_the_dashboard_log_but_never_a_widget_visitor(owner: Api, fake_llm) -> None:
    owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini", published=True, allowed_origins=[HOST_PAGE_ORIGIN])
    response = widget_chat(owner, bot["id"], "[[fail500]] hello")
    events = sse_events(response)
    assert events[-1]["error"]["message"] == VISITOR_ERROR
    assert "fell over" not in response.text and "HTTP 500" not in response.text
    conversation = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations")["items"][0]
    detail = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}")
    assert "fell over" in detail["messages"][1]["error"]  # the admin sees what the provider said


# -- the connect-time half: a name that passed the first check but resolves privately later ----------

def blocked_call(fake_llm, provider: str = "openai", model: str = "gpt-4o-mini") -> LLMCall:
    base = fake_llm.url.replace("127.0.0.1", "localhost")
    return LLMCall(model, [{"role": "user", "content": "hi"}], KEY, base, connect_timeout=5,
                   idle_timeout=5, provider=provider, allow_private=False)


def test_the_direct_clients_guarded_session_refuses_private_addresses_at_connect_time(fake_llm) -> None:
    async def run() -> None:
        try:
            request = DirectStream(blocked_call(fake_llm), "gpt-4o-mini")._request()
            with pytest.raises(LLMError) as refused:
                await shared_session(guarded=True).post(**request)
            assert refused.value.code == "provider_blocked" and SETTING in refused.value.message
        finally:
            await close_shared_client()

    before = len(fake_llm.requests)
    asyncio.run(run())
    assert len(fake_llm.requests) == before


@pytest.mark.parametrize("provider, model", [
    ("openai", "gpt-4o-mini"), ("openai_compatible", "openai/local-model"), ("ollama", "ollama_chat/llama3.2"),
    ("anthropic", "anthropic/claude-3-5-haiku-latest"), ("groq", "groq/llama3-8b"), ("lm_studio", "lm_studio/x"),
])
def test_litellm_calls_get_a_client_that_refuses_private_addresses_at_connect_time(fake_llm, provider,
                                                                                   model) -> None:
    async def run() -> None:
        litellm = await llm.load_litellm()
        call = blocked_call(fake_llm, provider, model)
        with pytest.raises(Exception) as raised:  # straight to LiteLLM, without the pre-call check
            response = await litellm.acompletion(**llm._call_kwargs(call), stream=True)
            async for _ in response:
                pass
        refusal = llm._failure(raised.value, call)
        assert refusal.code == "provider_blocked" and SETTING in refusal.message

    before = len(fake_llm.requests)
    asyncio.run(run())
    assert len(fake_llm.requests) == before
