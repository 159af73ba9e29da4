"""Picking a bot's model: the models of connected providers, the default for a new bot, and a
model whose provider is not connected refused when the bot is saved (not when a visitor chats)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fakes.llm import MODELS
from tests.support import Api


def bots_path(api: Api, bot_id: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}/chatbots" + (f"/{bot_id}" if bot_id else "")


def models(api: Api) -> dict:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/models")


def test_without_a_provider_only_the_builtin_model_is_offered(owner):
    listed = models(owner)
    assert listed == {"providers": [], "builtin": "builtin/extractive", "default": "builtin/extractive"}
    assert owner.create_bot(owner.ws)["model"] == "builtin/extractive"


def test_an_openai_compatible_server_is_asked_for_its_models_and_the_list_is_cached(owner, fake_llm):
    owner.add_provider(owner.ws, "openai_compatible", "sk-local-0123456789", fake_llm.url)
    before = fake_llm.app.model_list_requests
    listed = models(owner)
    [server] = listed["providers"]
    assert server["provider"] == "openai_compatible" and server["source"] == "server" and server["error"] is None
    assert server["models"] == [f"openai_compatible/{m}" for m in MODELS]
    assert listed["default"] == server["default"] == "openai_compatible/fake-model"
    one = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/providers/openai_compatible/models")
    assert one["models"] == server["models"]
    assert fake_llm.app.model_list_requests == before + 1  # the second look came from the cache
    # A new bot gets the server's model instead of silently falling back to the built-in one.
    bot = owner.create_bot(owner.ws)
    assert bot["model"] == "openai_compatible/fake-model"
    assert owner.chat(owner.ws, bot["id"], "hello")[-1]["done"] is True


def test_re_saving_a_provider_asks_its_server_again(owner, fake_llm):
    owner.add_provider(owner.ws, "openai_compatible", "sk-local-0123456789", fake_llm.url)
    models(owner)
    before = fake_llm.app.model_list_requests
    owner.add_provider(owner.ws, "openai_compatible", "sk-wrong-0123456789", fake_llm.url)
    [server] = models(owner)["providers"]
    assert fake_llm.app.model_list_requests == before + 1
    # The server refused the key: the reason is shown, and the model can still be typed by hand.
    assert server["models"] == [] and "401" in server["error"]


def test_ollama_tags_become_ollama_chat_models(owner, fake_llm):
    owner.add_provider(owner.ws, "ollama", "", fake_llm.url.removesuffix("/v1"))
    [ollama] = models(owner)["providers"]
    assert ollama["source"] == "server"
    assert ollama["models"] == [f"ollama_chat/{m}:latest" for m in MODELS]


def test_hosted_providers_list_litellms_known_chat_models(owner, fake_llm):
    owner.add_provider(owner.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    before = fake_llm.app.model_list_requests
    [openai] = models(owner)["providers"]
    assert openai["source"] == "litellm" and openai["default"] == "openai/gpt-4o-mini"
    assert "openai/gpt-4o-mini" in openai["models"]
    assert not any("embedding" in m or "whisper" in m or "dall-e" in m for m in openai["models"])
    assert fake_llm.app.model_list_requests == before  # a hosted API is not asked


def test_listing_models_of_a_provider_that_is_not_connected_is_404(owner):
    assert owner.get(f"/api/v1/workspaces/{owner.ws}/providers/openai/models").status_code == 404


UNCONNECTED = [
    ("anthropic/claude-3-5-haiku-latest", "anthropic"),
    ("gemini/gemini-1.5-flash", "gemini"),
    ("ollama_chat/llama3.2", "ollama"),
    ("openai_compatible/fake-model", "openai_compatible"),
]


@pytest.mark.parametrize("model, provider", UNCONNECTED)
def test_a_model_whose_provider_is_not_connected_is_refused_at_save_time(owner, fake_llm, model, provider):
    owner.add_provider(owner.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    created = owner.post(bots_path(owner), json={"name": "Bot", "model": model})
    assert created.status_code == 400, created.text
    [detail] = created.json()["error"]["details"]
    assert detail["field"] == "model" and f"'{provider}'" in detail["message"] and "not connected" in detail["message"]
    assert owner.ok("GET", bots_path(owner)) == []
    bot = owner.create_bot(owner.ws, model="openai/gpt-4o-mini")
    patched = owner.patch(bots_path(owner, bot["id"]), json={"model": model})
    assert patched.status_code == 400 and patched.json()["error"]["details"][0]["field"] == "model"
    assert owner.ok("GET", bots_path(owner, bot["id"]))["model"] == "openai/gpt-4o-mini"


def test_a_model_no_provider_is_known_for_is_refused_with_the_reason(owner):
    response = owner.post(bots_path(owner), json={"name": "Bot", "model": "no-such-model-anywhere"})
    assert response.status_code == 400
    assert "provider/model" in response.json()["error"]["details"][0]["message"]


def test_connected_and_builtin_models_are_accepted(owner, fake_llm):
    owner.add_provider(owner.ws, "openai_compatible", "sk-local-0123456789", fake_llm.url)
    assert owner.create_bot(owner.ws, model="openai_compatible/anything-typed")["model"] == "openai_compatible/anything-typed"
    assert owner.create_bot(owner.ws, model="builtin/extractive")["model"] == "builtin/extractive"


class _Recorder(BaseHTTPRequestHandler):
    """Redirects /v1/models to /elsewhere and records the Authorization header of every request."""
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(302 if self.path.endswith("/models") else 200)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_provider_key_does_not_follow_a_redirect(owner):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        owner.add_provider(owner.ws, "openai_compatible", "sk-local-SECRET-0123", f"http://127.0.0.1:{httpd.server_port}/v1")
        [server] = models(owner)["providers"]
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert server["models"] == [] and "redirect" in server["error"]
    assert _Recorder.seen == [("/v1/models", "Bearer sk-local-SECRET-0123")]  # never sent to /elsewhere


def test_the_key_test_of_a_server_uses_the_first_model_it_lists(owner, fake_llm):
    owner.add_provider(owner.ws, "openai_compatible", "sk-local-0123456789", fake_llm.url)
    result = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/providers/openai_compatible/test", json={})
    assert result["ok"] is True and result["model"] == "openai_compatible/fake-model"
    assert fake_llm.requests[-1]["model"] == "fake-model"
