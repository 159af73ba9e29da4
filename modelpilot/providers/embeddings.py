"""Embeddings from a workspace's provider: OpenAI-compatible `POST {base}/embeddings`.

Opt-in per workspace (rag/workspace_embedding.py decides when; this module only makes the call).
The workspace's sealed key and api_base are the chat's own (providers table), the target passes
the same SSRF guard as chat calls (egress.py, MODELPILOT_PROVIDER_ALLOW_PRIVATE) and the request
goes through the direct client's shared aiohttp session (direct.py). Storage has one dimension
for every workspace (384 unless the instance chose another built-in model), so the call asks
for it with `dimensions` and refuses an answer of any other size, in words an admin can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
import msgspec

from modelpilot.core.db import Database
from modelpilot.providers import repo
from modelpilot.providers.direct import OPENAI_API_BASE, shared_session
from modelpilot.providers.egress import check_target
from modelpilot.providers.env_proxy import request_options, with_env_options
from modelpilot.providers.errors import LLMError, error_for_status, scrub
from modelpilot.providers.keys import open_api_key
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.providers.embeddings")

# Providers whose servers speak OpenAI's embeddings API, and the base used when none is stored.
EMBEDDING_PROVIDERS = {"openai": OPENAI_API_BASE, "openai_compatible": None, "ollama": "http://localhost:11434/v1"}
BATCH = 64            # texts per request
_BODY_LIMIT = 64 << 20  # 64 texts x 3072 numbers as JSON is ~4 MB; anything far past it is not an answer


class _Item(msgspec.Struct):
    embedding: list[float]
    index: int = 0


class _Reply(msgspec.Struct):
    data: list[_Item]


_decode_reply = msgspec.json.Decoder(_Reply).decode


@dataclass(frozen=True)
class EmbeddingCall:
    """What the error helpers read of a call (as of an LLMCall): the model and the key to scrub."""
    litellm_model: str
    api_key: str
    api_base: str | None
    url: str


def embeddings_base(provider: str, api_base: str | None) -> str | None:
    """The OpenAI-compatible base for a provider: Ollama's is its server's `/v1`."""
    if provider not in EMBEDDING_PROVIDERS:
        return None
    base = (api_base or EMBEDDING_PROVIDERS[provider] or "").rstrip("/")
    if provider == "ollama" and base and not base.endswith("/v1"):
        base += "/v1"
    return base or None


def size_problem(model: str, got: int, dimensions: int) -> str:
    return (f"{model} returned {got} numbers per text; ModelPilot stores {dimensions}. Choose a model that "
            f"accepts `dimensions` (text-embedding-3-small or -large) or one that returns {dimensions} (all-minilm)")


async def _call_for(db: Database, settings: Settings, workspace_id: str, provider: str, model: str) -> EmbeddingCall:
    async with db.read() as conn:
        row = await repo.get_provider(conn, workspace_id, provider)
    if row is None:
        raise LLMError("provider_not_configured", f"This workspace has not connected the '{provider}' provider.")
    base = embeddings_base(provider, row.api_base)
    if base is None:
        raise LLMError("provider_bad_request", f"The '{provider}' provider does not offer OpenAI-compatible "
                                               "embeddings here; use openai, openai_compatible or ollama.")
    api_key = open_api_key(settings, workspace_id, provider, row.sealed_key)
    return EmbeddingCall(f"{provider}/{model}", api_key, row.api_base, base + "/embeddings")


async def provider_embeddings(db: Database, settings: Settings, workspace_id: str, provider: str, model: str,
                              texts: list[str], dimensions: int,
                              timeout_seconds: float | None = None) -> list[list[float]]:
    """One vector of `dimensions` numbers per text, BATCH texts a request, each request within
    timeout_seconds (default: the LLM idle timeout). Raises LLMError in plain words (code
    `embedding_size` when the model answers with another size)."""
    call = await _call_for(db, settings, workspace_id, provider, model)
    await check_target(call.litellm_model, call.api_base, settings.providers_may_reach_private)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), BATCH):
        vectors += await _request(call, settings, model, texts[start:start + BATCH], dimensions,
                                  timeout_seconds or settings.llm_idle_timeout)
    return vectors


def _request_options(call: EmbeddingCall, settings: Settings, model: str, texts: list[str],
                     dimensions: int, timeout_seconds: float) -> dict:
    body = {"model": model, "input": texts, "dimensions": dimensions, "encoding_format": "float"}
    headers = {"Content-Type": "application/json"}
    if call.api_key:
        headers["Authorization"] = f"Bearer {call.api_key}"
    timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=settings.llm_connect_timeout,
                                    sock_connect=settings.llm_connect_timeout)
    return {"url": call.url, "data": msgspec.json.encode(body), "headers": headers, "timeout": timeout,
            "allow_redirects": False}


async def _request(call: EmbeddingCall, settings: Settings, model: str, texts: list[str],
                   dimensions: int, timeout_seconds: float) -> list[list[float]]:
    request = _request_options(call, settings, model, texts, dimensions, timeout_seconds)
    allow_private = settings.providers_may_reach_private
    if allow_private:  # HTTPS_PROXY and friends, as chat calls honour them
        request = with_env_options(request, await request_options(request["url"]))
    try:
        async with shared_session(guarded=not allow_private).post(**request) as response:
            body = await _read_body(response)
            status = response.status
    except TimeoutError:
        raise LLMError("provider_timeout", f"The provider did not answer with embeddings within "
                                           f"{timeout_seconds:g} s.") from None
    except (aiohttp.ClientError, OSError) as exc:
        detail = scrub(" ".join((str(exc) or type(exc).__name__).split())[:300], call.api_key)
        log.warning("embedding call to %s failed: %s", call.litellm_model, type(exc).__name__)
        raise LLMError("provider_unreachable", f"Could not reach the provider. ({detail})") from None
    if status != 200:
        raise error_for_status(status, _error_text(body), call)
    return _vectors(body, model, len(texts), dimensions)


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    """The whole answer (64 vectors of 384 numbers are ~500 KB of JSON, many network reads), cut
    off past _BODY_LIMIT."""
    parts, size = [], 0
    async for piece in response.content.iter_chunked(1 << 16):
        size += len(piece)
        if size > _BODY_LIMIT:
            raise LLMError("provider_error", "The provider's answer was far larger than embeddings can be.")
        parts.append(piece)
    return b"".join(parts)


def _error_text(body: bytes) -> str:
    try:
        decoded = msgspec.json.decode(body[:8192])
    except msgspec.DecodeError:
        return body[:300].decode(errors="replace")
    error = decoded.get("error", decoded) if isinstance(decoded, dict) else decoded
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)


def _vectors(body: bytes, model: str, count: int, dimensions: int) -> list[list[float]]:
    try:
        reply = _decode_reply(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise LLMError("provider_error", "The provider's answer was not an OpenAI-style list of embeddings.") from None
    if len(reply.data) != count:
        raise LLMError("provider_error", f"The provider returned {len(reply.data)} embeddings for {count} texts.")
    items = sorted(reply.data, key=lambda item: item.index)
    for item in items:
        if len(item.embedding) != dimensions:
            raise LLMError("embedding_size", size_problem(model, len(item.embedding), dimensions))
    return [item.embedding for item in items]
