"""A lean streaming client for OpenAI-compatible chat completions (providers `openai`, `openai_compatible`).

Why: through LiteLLM a streamed chat cost ~17 ms of server CPU, ~80 % of it inside LiteLLM (per call:
logging objects, provider resolution, building a complete response for callbacks; per chunk: the
OpenAI SDK's pydantic models plus LiteLLM's own chunk objects). LiteLLM 1.110 has no switch for any of
that, and with 50 streams at once on two cores the CPU became queueing delay before the first byte.
The wire format of these providers is simple: POST {api_base}/chat/completions, SSE `data:` lines of
JSON, `[DONE]`. This client speaks it with one pooled aiohttp session per event loop, takes usage
from the last chunk (stream_options.include_usage), prices it once per message from LiteLLM's local
price map, and fails with the same LLMError codes, messages and timeouts as the LiteLLM path.
aiohttp rather than httpx: against the fake provider one streamed request cost 0.16 ms of client CPU
with aiohttp and 1.15 ms with httpx (measured here, 10 concurrent); it is already installed for LiteLLM.
Every other provider, and OpenAI's reasoning models (LiteLLM rewrites their parameters), stay on LiteLLM.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import weakref
from typing import Any, AsyncIterator

import aiohttp
import certifi
import msgspec

from modelpilot.providers.egress import GuardedResolver, check_target
from modelpilot.providers.env_proxy import request_options, with_env_options
from modelpilot.providers.errors import LLMError, error_for_status, scrub
from modelpilot.providers.llm import (
    LLMCall, ModelStream, Usage, finish_usage, load_litellm, loaded_litellm, needs_litellm_to_price,
)
from modelpilot.providers.sse_decoder import SSEDecoder
from modelpilot.providers.tool_calls import ToolCall, ToolCallAssembler

log = logging.getLogger("modelpilot.providers.direct")
DIRECT_PROVIDERS = frozenset({"openai", "openai_compatible"})
OPENAI_API_BASE = "https://api.openai.com/v1"
# LiteLLM sends max_completion_tokens and drops temperature for these: leave them to it.
_REWRITTEN_MODELS = re.compile(r"^(o\d|gpt-5|codex|computer-use)", re.IGNORECASE)
_ERROR_BODY_LIMIT = 8192


class _Function(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolDelta(msgspec.Struct):
    index: int | None = None
    id: str | None = None
    function: _Function | None = None


class _Delta(msgspec.Struct):
    content: str | None = None
    tool_calls: list[_ToolDelta] | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _ChunkUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: _ChunkUsage | None = None
    error: Any = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_encode = msgspec.json.Encoder().encode


def direct_model_name(provider: str, litellm_model: str) -> str | None:
    """The model name to send when the direct client serves this route, else None (use LiteLLM)."""
    if provider not in DIRECT_PROVIDERS:
        return None
    name = litellm_model.removeprefix("openai/")
    if not name or _REWRITTEN_MODELS.match(name.rsplit("/", 1)[-1]):
        return None
    return name


def model_stream(call: LLMCall, provider: str, allow_direct: bool) -> Any:
    """The stream for a call: the direct client where it is safe and allowed, LiteLLM otherwise."""
    name = direct_model_name(provider, call.litellm_model) if allow_direct else None
    return DirectStream(call, name) if name else ModelStream(call)


_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, aiohttp.ClientSession]]" = (
    weakref.WeakKeyDictionary())


def shared_session(guarded: bool = False) -> aiohttp.ClientSession:
    """One session (and connection pool) per event loop: connections are reused across chats.
    The guarded one connects only to public addresses (egress.py) and ignores proxy variables:
    behind a proxy the address check would mean nothing."""
    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(guarded)
    if session is None or session.closed:
        # certifi's CA bundle, as httpx (LiteLLM's client) uses: some Pythons ship no system CAs.
        tls = ssl.create_default_context(cafile=certifi.where())
        resolver = {"resolver": GuardedResolver()} if guarded else {}
        connector = aiohttp.TCPConnector(limit=1000, keepalive_timeout=30, ssl=tls, **resolver)
        # No trust_env: the unguarded session's requests carry the environment's proxy themselves
        # (env_proxy.py, looked up once per origin rather than in two threads per request).
        session = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=True)
        sessions[guarded] = session
    return session


async def close_shared_client() -> None:
    for session in _sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


class DirectStream:
    """Async iterator of text pieces; `usage` and `tool_calls` are filled in once the stream has ended
    (like ModelStream)."""

    def __init__(self, call: LLMCall, model_name: str) -> None:
        self.call = call
        self.model_name = model_name
        self.usage = Usage()
        self.assembler = ToolCallAssembler()
        self._finished = False  # a finish_reason arrived: the answer is whole even if [DONE] never does

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self.assembler.calls()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        response = await self._open()
        produced: list[str] = []
        complete = False
        try:
            async for text in self._read(response):
                produced.append(text)
                yield text
            complete = True
        finally:
            if complete:
                response.release()  # read to the end: the connection goes back to the pool
            else:
                response.close()  # cut short (error, timeout, client gone): the connection is dropped
        model = self.call.litellm_model
        litellm = await load_litellm() if needs_litellm_to_price(model) else loaded_litellm()
        finish_usage(litellm, self.call, self.usage, produced)

    def _request(self) -> dict[str, Any]:
        call = self.call
        body = {"model": self.model_name, "messages": call.messages, "temperature": call.temperature,
                "max_tokens": call.max_tokens, "stream": True, "stream_options": {"include_usage": True}}
        if call.tools:
            body["tools"] = list(call.tools)
        headers = {"Content-Type": "application/json"}
        if call.api_key:
            headers["Authorization"] = f"Bearer {call.api_key}"
        # sock_read is the idle timeout: it only runs while we wait on the provider's next bytes.
        timeout = aiohttp.ClientTimeout(total=None, connect=call.connect_timeout,
                                        sock_connect=call.connect_timeout, sock_read=call.idle_timeout)
        url = (call.api_base or OPENAI_API_BASE).rstrip("/") + "/chat/completions"
        return {"url": url, "data": _encode(body), "headers": headers, "timeout": timeout, "allow_redirects": False}

    async def _open(self) -> aiohttp.ClientResponse:
        await check_target(self.call.litellm_model, self.call.api_base, self.call.allow_private)
        request = self._request()
        if self.call.allow_private:  # HTTPS_PROXY and friends, as the LiteLLM path honours them
            request = with_env_options(request, await request_options(request["url"]))
        try:
            response = await shared_session(guarded=not self.call.allow_private).post(**request)
        except TimeoutError:
            raise LLMError("provider_timeout", "The model did not start answering in time.") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise self._transport_error("provider_unreachable", "Could not reach the provider.", exc) from None
        if response.status != 200:
            try:
                detail = await _error_detail(response)
            finally:
                response.close()
            raise error_for_status(response.status, detail, self.call)
        return response

    async def _read(self, response: aiohttp.ClientResponse) -> AsyncIterator[str]:
        decoder, ended = SSEDecoder(), False
        try:
            while raw := await response.content.readany():
                for data in decoder.feed(raw):
                    if ended:
                        continue  # read on to the end of the body so the connection can be reused
                    text, ended = self._take(data)
                    if text:
                        yield text
            for data in decoder.close():
                if not ended:
                    text, ended = self._take(data)
                    if text:
                        yield text
        except TimeoutError:
            raise LLMError("provider_timeout", f"The model sent nothing for {self.call.idle_timeout:g} s; "
                                               "the answer was cut off.") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise self._transport_error("provider_error", "The provider failed while answering.", exc) from None
        if not ended and not self._finished:
            raise LLMError("provider_error", "The provider failed while answering. (the stream ended early)")

    def _take(self, data: bytes) -> tuple[str, bool]:
        """(text, stream ended) for one SSE event's data."""
        if data == b"[DONE]":
            return "", True
        try:
            chunk = _decode_chunk(data)
        except msgspec.DecodeError:
            raise LLMError("provider_error", "The provider failed while answering. (a chunk was not "
                                             "valid OpenAI-style JSON)") from None
        if chunk.error is not None:
            raise self._stream_error(chunk.error)
        if chunk.usage is not None and chunk.usage.prompt_tokens is not None:
            self.usage.tokens_in = chunk.usage.prompt_tokens or 0
            self.usage.tokens_out = chunk.usage.completion_tokens or 0
            self.usage.reported = True
        if not chunk.choices:
            return "", False
        if chunk.choices[0].finish_reason:
            self._finished = True
        delta = chunk.choices[0].delta
        if delta is None:
            return "", False
        for piece in delta.tool_calls or ():
            function = piece.function
            self.assembler.feed(piece.index, piece.id, function.name if function else None,
                                function.arguments if function else None)
        return delta.content or "", False

    def _stream_error(self, error: Any) -> LLMError:
        message = error.get("message", "") if isinstance(error, dict) else str(error)
        detail = scrub(" ".join(str(message).split())[:300], self.call.api_key)
        log.warning("model stream from %s reported an error", self.call.litellm_model)
        return LLMError("provider_error", f"The provider failed while answering. ({detail})")

    def _transport_error(self, code: str, summary: str, exc: Exception) -> LLMError:
        detail = scrub(str(exc) or type(exc).__name__, self.call.api_key)
        log.warning("model call to %s failed: %s", self.call.litellm_model, type(exc).__name__)
        return LLMError(code, f"{summary} ({' '.join(detail.split())[:300]})")


async def _error_detail(response: aiohttp.ClientResponse) -> str:
    """The provider's own words for an HTTP error: error.message of an OpenAI-style body, or its text."""
    try:
        body = await response.content.read(_ERROR_BODY_LIMIT)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # the status decides the error anyway
        log.debug("reading a provider's error body failed: %s", type(exc).__name__)
        return ""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body[:300].decode(errors="replace")
    error = decoded.get("error", decoded) if isinstance(decoded, dict) else decoded
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)
