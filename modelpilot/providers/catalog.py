"""The models a connected provider offers, for the bot editor's model picker.

Servers people run themselves (OpenAI-compatible ones such as vLLM or LM Studio, and Ollama)
are asked for their list (`GET {api_base}/models`, `GET {api_base}/api/tags`): only they know
what is loaded. For hosted providers, LiteLLM's bundled price map already names their chat
models, and asking their APIs would list embedding, audio and image models too.
Lists are cached briefly per workspace and provider row, so opening the editor does not call
the server every time, and a re-saved provider (new key or base) is asked again at once.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import msgspec

from modelpilot.core.safe_http import FetchError, SafeFetcher
from modelpilot.providers.models import DEFAULT_MODELS

OPENAI_STYLE_SERVERS = frozenset({"openai_compatible", "hosted_vllm", "lm_studio"})
OLLAMA_DEFAULT_BASE = "http://localhost:11434"
CACHE_SECONDS = 60.0
FAILURE_CACHE_SECONDS = 5.0
MAX_MODELS = 500
_MAX_LIST_BYTES = 2_000_000
_cache: dict[tuple, tuple[float, "ProviderModels"]] = {}


@dataclass
class ProviderModels:
    provider: str
    models: list[str] = field(default_factory=list)  # bot model names, e.g. "openai_compatible/llama3"
    default: str | None = None
    source: str = "litellm"  # "server" (asked the provider) or "litellm" (LiteLLM's known models)
    error: str | None = None  # why the server's own list could not be read

    def to_dict(self) -> dict:
        return asdict(self)


def _usable(name: Any) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 150 and not any(c.isspace() for c in name)


def parse_server_list(provider: str, body: bytes) -> list[str]:
    """Model names from an OpenAI-style `{"data": [{"id"}]}` or Ollama `{"models": [{"name"}]}` body."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise FetchError("bad_body", "The server's model list is not JSON.") from None
    if not isinstance(data, dict):
        raise FetchError("bad_body", "The server's model list has an unexpected shape.")
    if provider == "ollama":
        names = [m.get("name") or m.get("model") for m in data.get("models") or [] if isinstance(m, dict)]
        prefix = "ollama_chat/"  # /api/chat keeps the turns apart; "ollama/" flattens them
    else:
        names = [m.get("id") for m in data.get("data") or [] if isinstance(m, dict)]
        prefix = f"{provider}/"
    return [prefix + n for n in dict.fromkeys(n for n in names if _usable(n))][:MAX_MODELS]


def litellm_chat_models(litellm: Any, provider: str) -> list[str]:
    """LiteLLM's known chat models of a provider, as bot model names (provider-prefixed)."""
    names = []
    for name in sorted(litellm.models_by_provider.get(provider, ())):
        info = litellm.model_cost.get(name) or litellm.model_cost.get(f"{provider}/{name}") or {}
        if info.get("mode", "chat") != "chat":
            continue
        full = name if name.startswith(provider + "/") else f"{provider}/{name}"
        if _usable(full):
            names.append(full)
    return names[:MAX_MODELS]


def list_url(provider: str, api_base: str | None) -> str | None:
    """Where the provider's own list lives, or None when LiteLLM's list is used instead."""
    if provider == "ollama":
        return (api_base or OLLAMA_DEFAULT_BASE).rstrip("/") + "/api/tags"
    if provider in OPENAI_STYLE_SERVERS and api_base:
        return api_base.rstrip("/") + "/models"
    return None


def fetcher_for(api_key: str, connect_timeout: float, timeout: float) -> SafeFetcher:
    # Private addresses are allowed: the admin set this base, and every chat of the workspace's bots
    # already goes there, so listing reaches nothing new. No redirects: the key must not travel on.
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return SafeFetcher(allow_private=True, max_bytes=_MAX_LIST_BYTES, timeout_seconds=timeout,
                       connect_timeout=connect_timeout, max_redirects=0, extra_headers=headers)


def with_default(found: ProviderModels) -> ProviderModels:
    preferred = DEFAULT_MODELS.get(found.provider)
    if preferred and (preferred in found.models or found.source == "litellm"):
        found.default = preferred
    elif found.models:
        found.default = found.models[0]
    return found


def cached(key: tuple) -> ProviderModels | None:
    hit = _cache.get(key)
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]


def remember(key: tuple, found: ProviderModels) -> ProviderModels:
    if len(_cache) > 512:  # bounded: stale entries of deleted providers must not pile up
        now = time.monotonic()
        for stale in [k for k, (expires, _) in _cache.items() if expires < now]:
            del _cache[stale]
        if len(_cache) > 512:
            _cache.clear()
    ttl = FAILURE_CACHE_SECONDS if found.error else CACHE_SECONDS
    _cache[key] = (time.monotonic() + ttl, found)
    return found
