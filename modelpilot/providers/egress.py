"""Where a provider call may connect: the SSRF guard for tenants' `api_base` URLs.

A workspace admin chooses a provider's base URL, and the server sends that workspace's key there
and reads the answer back. On an instance where admins are not the operator (open signup, an
agency's clients) that would let them probe and read internal services (cloud metadata at
169.254.169.254, a Docker socket on localhost:2375, 10.x hosts). MODELPILOT_PROVIDER_ALLOW_PRIVATE
decides whether private, loopback and link-local addresses are allowed (default: yes on a private
instance, where a local Ollama or vLLM is the usual case; no when open signup is on).

When they are not allowed, each call is checked twice, like URL sources (core/safe_http.py):
before it starts (the target host is resolved and every address must be public) and at connect
time (the direct client resolves through a guarded resolver and connects only to what it
validated; LiteLLM calls get a client on safe_http's guarded transport), so a DNS answer that
changes between the check and the connection is refused too. LiteLLM takes a client of one of two
kinds depending on the provider (measured with litellm 1.110 against a refused address, see
tests/providers/test_provider_egress.py); a provider in neither list keeps the check before the call only.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from modelpilot.core.safe_http import AddressPolicy, FetchError, is_public_address, system_resolver
from modelpilot.providers.errors import LLMError

SETTING = "MODELPILOT_PROVIDER_ALLOW_PRIVATE"
REFUSED_HINT = (f"Provider URLs on this instance may not reach private, loopback or link-local addresses; "
                f"the operator can allow them with {SETTING}=true.")
# LiteLLM's built-in base URLs for providers that run on the same machine by default.
LOCAL_DEFAULT_BASES = {
    "ollama": "http://localhost:11434", "ollama_chat": "http://localhost:11434",
    "lm_studio": "http://localhost:1234/v1", "llamafile": "http://127.0.0.1:8080/v1",
}
POLICY = AddressPolicy(allow_private=False, refusal_hint=REFUSED_HINT)
# LiteLLM provider prefixes served through the OpenAI SDK (they take an AsyncOpenAI client)...
OPENAI_SDK_PROVIDERS = frozenset({"openai", "openai_compatible", "lm_studio", "perplexity", "llamafile",
                                  "nvidia_nim", "cerebras", "deepinfra", "sambanova"})
# ...and those served by LiteLLM's own HTTP handler (they take an AsyncHTTPHandler).
HTTP_HANDLER_PROVIDERS = frozenset({"anthropic", "gemini", "mistral", "groq", "openrouter", "ollama", "ollama_chat",
                                    "hosted_vllm", "deepseek", "together_ai", "fireworks_ai", "xai", "huggingface",
                                    "databricks"})


def blocked(host: str, address: str) -> LLMError:
    return LLMError("provider_blocked", f"Refused to connect to {host}: it resolves to {address}, a private, "
                                        f"loopback or link-local address. {REFUSED_HINT}")


def target_of(litellm_model: str, api_base: str | None) -> str | None:
    """The URL a call will reach when it is not a provider's public default."""
    if api_base:
        return api_base
    return LOCAL_DEFAULT_BASES.get(litellm_model.partition("/")[0])


def _check_addresses(host: str, addresses: list[str]) -> None:
    for address in addresses:
        if not is_public_address(ipaddress.ip_address(address)):
            raise blocked(host, address)


async def check_target(litellm_model: str, api_base: str | None, allow_private: bool) -> None:
    """Before a call: refuse a target whose host is or resolves to a non-public address."""
    url = target_of(litellm_model, api_base)
    if allow_private or not url:
        return
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await system_resolver(host, urlsplit(url).port or 443)
        except FetchError as exc:
            raise LLMError("provider_unreachable", f"Could not reach the provider. ({exc.message})") from None
    _check_addresses(host, addresses)


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that hands the connector only public addresses (connect-time check)."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        results = await self._inner.resolve(host, port, family)
        _check_addresses(host, [result["host"] for result in results])
        return results

    async def close(self) -> None:
        await self._inner.close()


def provider_prefix(call: Any) -> str:
    prefix, slash, _ = call.litellm_model.partition("/")
    return prefix if slash else call.provider


def guarded_litellm_client(call: Any) -> Any | None:
    """The client to hand LiteLLM so its connections pass the guard, or None if none fits."""
    prefix = provider_prefix(call)
    if prefix in OPENAI_SDK_PROVIDERS:
        return guarded_openai_client(call)
    if prefix in HTTP_HANDLER_PROVIDERS:
        from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

        from modelpilot.core.safe_http import guarded_transport

        return AsyncHTTPHandler(transport=guarded_transport(POLICY), follow_redirects=False,
                                timeout=call.idle_timeout)
    return None


def guarded_openai_client(call: Any) -> Any:
    """An AsyncOpenAI client whose every connection passes the address guard, for LiteLLM's
    OpenAI-style providers (LiteLLM uses a client it is given as is)."""
    import httpx
    import openai

    from modelpilot.core.safe_http import guarded_transport

    http = httpx.AsyncClient(transport=guarded_transport(POLICY), follow_redirects=False, trust_env=False,
                             timeout=httpx.Timeout(call.idle_timeout, connect=call.connect_timeout))
    return openai.AsyncOpenAI(api_key=call.api_key or "none", base_url=target_of(call.litellm_model, call.api_base),
                              http_client=http, max_retries=0)


def connect_refusal(exc: BaseException) -> LLMError | None:
    """The plain refusal inside an exception LiteLLM or httpx wrapped around our guard's, if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, LLMError) and exc.code == "provider_blocked":
            return exc
        if isinstance(exc, FetchError) and exc.code == "blocked_address":
            return LLMError("provider_blocked", exc.message)
        exc = exc.__cause__ or exc.__context__
    return None
