"""The provider embeddings call: where it goes (Ollama's OpenAI-compatible /v1, OpenAI's default
base) and that it passes the chat's address guard (MODELPILOT_PROVIDER_ALLOW_PRIVATE)."""

from __future__ import annotations

import pytest

from modelpilot.providers.direct import OPENAI_API_BASE
from modelpilot.providers.embeddings import embeddings_base
from tests.fakes.llm import start_fake_llm
from tests.support import Api


@pytest.mark.parametrize("provider, api_base, expected", [
    ("openai", None, OPENAI_API_BASE),
    ("openai", "https://proxy.example.com/v1/", "https://proxy.example.com/v1"),
    ("ollama", None, "http://localhost:11434/v1"),
    ("ollama", "http://gpu-box:11434", "http://gpu-box:11434/v1"),
    ("ollama", "http://gpu-box:11434/v1", "http://gpu-box:11434/v1"),
    ("openai_compatible", "http://vllm:8000/v1", "http://vllm:8000/v1"),
    ("openai_compatible", None, None),
    ("anthropic", None, None),
])
def test_the_embeddings_base_of_each_provider(provider, api_base, expected):
    assert embeddings_base(provider, api_base) == expected


def test_a_private_address_is_refused_when_providers_may_not_reach_it(server_factory):
    fake = start_fake_llm()
    live = server_factory(provider_allow_private=False)
    owner = Api(live.url)
    try:
        owner.setup_owner()
        owner.add_provider(owner.ws, "openai_compatible", "sk-guard-0123456789abcdef", fake.url)
        response = owner.put(f"/api/v1/workspaces/{owner.ws}/embedding",
                             json={"mode": "provider", "provider": "openai_compatible", "model": "text-embedding-3-small"})
        assert response.status_code == 400, response.text
        (detail,) = response.json()["error"]["details"]
        assert detail["field"] == "provider"
        assert "127.0.0.1" in detail["message"] and "MODELPILOT_PROVIDER_ALLOW_PRIVATE" in detail["message"]
        assert fake.app.embedding_requests == []  # refused before connecting
    finally:
        owner.close()
        fake.stop()
