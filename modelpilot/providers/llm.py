"""The one place that calls LiteLLM: a streaming chat call with timeouts, usage and cost.

LiteLLM is imported lazily (about 2 s and 150 MB): on the first chat that needs it, or in the
background after start-up when a bot's model does, never on the way to a healthy /healthz; the
direct client's chats are priced without it (price_map.py). LITELLM_OFFLINE_MODE is set before the import so
it reads its bundled price map instead of fetching one from the internet. Keys and api_base are
passed per call, never through the process environment, so tenants cannot see each other's keys.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

import anyio

from modelpilot.core.memory import freeze_heap
from modelpilot.providers import price_map
from modelpilot.providers.egress import check_target, connect_refusal, guarded_litellm_client, target_of
from modelpilot.providers.errors import LLMError, translate_error
from modelpilot.providers.tool_calls import ToolCall, ToolCallAssembler

log = logging.getLogger("modelpilot.providers.llm")
_import_lock = threading.Lock()
_litellm: Any = None


def litellm_module() -> Any:
    """Import and configure LiteLLM once (blocking: call from a thread, or via load_litellm)."""
    global _litellm
    if _litellm is None:
        with _import_lock:
            if _litellm is None:
                os.environ["LITELLM_OFFLINE_MODE"] = "true"
                os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
                import litellm

                litellm.suppress_debug_info = True
                litellm.drop_params = True  # a provider that lacks a parameter ignores it
                litellm.telemetry = False
                # We price from the usage the provider reports (or our own estimate), so LiteLLM's
                # own tiktoken counting and per-stream logging only cost CPU (~10 ms a call, measured).
                litellm.disable_token_counter = True
                litellm.disable_streaming_logging = True
                for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
                    logging.getLogger(name).setLevel(logging.WARNING)
                freeze_heap()  # its ~330,000 objects live as long as the process
                _litellm = litellm
    return _litellm


def loaded_litellm() -> Any:
    """LiteLLM if it has been imported, else None (never imports it)."""
    return _litellm


async def load_litellm() -> Any:
    if _litellm is not None:
        return _litellm
    return await anyio.to_thread.run_sync(litellm_module, abandon_on_cancel=True)


async def preload_litellm(delay: float, wanted: Callable[[], Awaitable[bool]] | None = None) -> None:
    """After `delay` seconds: read the model catalog, and import LiteLLM unless `wanted()` says
    no bot needs it, so such a bot's first chat is quick. An instance on the built-in model or
    the direct client alone never pays LiteLLM's memory."""
    try:
        await asyncio.sleep(delay)
        await price_map.load_catalog()
        if wanted is None or await wanted():
            await load_litellm()
    except asyncio.CancelledError:
        raise
    except Exception:  # a broken install shows up again, with its error, on the first chat
        log.exception("background import of litellm failed")


@dataclass(frozen=True)
class LLMCall:
    litellm_model: str
    messages: list[dict]
    api_key: str = ""
    api_base: str | None = None
    temperature: float = 0.3
    max_tokens: int = 800
    connect_timeout: float = 10.0
    idle_timeout: float = 60.0
    provider: str = ""          # our provider name (ModelRoute.provider)
    allow_private: bool = True  # settings.providers_may_reach_private (see egress.py)
    tools: tuple = ()           # OpenAI-style function tools offered to the model


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    cost_note: str = ""
    reported: bool = False  # False when the provider sent no usage and we estimated it


@dataclass
class ModelStream:
    """Async iterator of text pieces; `usage` and `tool_calls` are filled in once the stream has ended."""
    call: LLMCall
    usage: Usage = field(default_factory=Usage)
    assembler: ToolCallAssembler = field(default_factory=ToolCallAssembler)

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self.assembler.calls()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        litellm = await load_litellm()
        upstream = await _open_stream(litellm, self.call)
        produced: list[str] = []
        chunks = upstream.__aiter__()
        try:
            while True:
                # The clock runs only while waiting on the provider, not while our consumer
                # (a slow client) holds a piece.
                async with asyncio.timeout(self.call.idle_timeout):
                    try:
                        chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        break
                self._take_usage(chunk)
                _take_tool_calls(chunk, self.assembler)
                text = _chunk_text(chunk)
                if text:
                    produced.append(text)
                    yield text
        except TimeoutError:
            raise LLMError("provider_timeout", f"The model sent nothing for {self.call.idle_timeout:g} s; "
                                               "the answer was cut off.") from None
        except LLMError:
            raise
        except Exception as exc:  # any provider failure mid-stream ends the answer with an error event
            raise translate_error(exc, self.call) from None
        finally:
            await _close_quietly(upstream)
        self._finish_usage(litellm, produced)

    def _take_usage(self, chunk: Any) -> None:
        usage = getattr(chunk, "usage", None)
        if usage and getattr(usage, "prompt_tokens", None) is not None:
            self.usage.tokens_in = int(usage.prompt_tokens or 0)
            self.usage.tokens_out = int(usage.completion_tokens or 0)
            self.usage.reported = True

    def _finish_usage(self, litellm: Any, produced: list[str]) -> None:
        finish_usage(litellm, self.call, self.usage, produced)


def finish_usage(litellm: Any, call: LLMCall, usage: Usage, produced: list[str]) -> None:
    """Once per message: estimate what the provider did not report, then price it."""
    if not usage.reported:
        usage.tokens_in = rough_tokens(" ".join(str(m.get("content", "")) for m in call.messages))
        usage.tokens_out = rough_tokens("".join(produced))
    usage.cost, usage.cost_note = price(litellm, call.litellm_model, usage)


def rough_tokens(text: str) -> int:
    """About four characters a token: good enough where a provider reports nothing."""
    return (len(text) + 3) // 4 if text else 0


_UNPRICED_NOTE = "no price known for this model; counted as free"
_unpriced_models: set[str] = set()


def price(litellm: Any, model: str, usage: Usage) -> tuple[float, str]:
    """Cost from LiteLLM's bundled price map; models it does not know (local ones) are free.
    The direct client's models are priced from the map without LiteLLM (price_map.py); the
    rest by LiteLLM, when it is loaded (litellm None: not loaded, and not needed for this model)."""
    if model in _unpriced_models:  # the failed look-up costs ~100 µs and a traceback: remember it
        return 0.0, _UNPRICED_NOTE
    quick = price_map.quick_price(model, usage.tokens_in, usage.tokens_out)
    if quick is None:
        _unpriced_models.add(model)
        return 0.0, _UNPRICED_NOTE
    if quick is not price_map.ASK_LITELLM:
        return float(quick), ""
    if litellm is None:
        return 0.0, _UNPRICED_NOTE
    try:
        return _cost(litellm, model, usage.tokens_in, usage.tokens_out), ""
    except Exception:  # ModelNotMappedError and friends: no price known for this model
        _unpriced_models.add(model)
        return 0.0, _UNPRICED_NOTE


def needs_litellm_to_price(model: str) -> bool:
    """Whether pricing this model's answers takes LiteLLM (price_map.quick_price cannot)."""
    return price_map.quick_price(model, 0, 0) is price_map.ASK_LITELLM


@functools.lru_cache(maxsize=4096)
def _cost(litellm: Any, model: str, tokens_in: int, tokens_out: int) -> float:
    # Exact per token count (LiteLLM has tiered prices), so the cache key holds both counts.
    prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out)
    return float(prompt + completion)


def _call_kwargs(call: LLMCall) -> dict:
    import httpx


    kwargs: dict[str, Any] = {
        "model": call.litellm_model, "messages": call.messages, "temperature": call.temperature,
        "max_tokens": call.max_tokens, "num_retries": 0, "max_retries": 0,
        "timeout": httpx.Timeout(call.idle_timeout, connect=call.connect_timeout),
    }
    if call.tools:
        kwargs["tools"] = list(call.tools)
    if call.api_key:
        kwargs["api_key"] = call.api_key
    if call.api_base:
        kwargs["api_base"] = call.api_base
    if not call.allow_private and target_of(call.litellm_model, call.api_base):
        client = guarded_litellm_client(call)  # the connect-time half of the check (egress.py)
        if client is not None:
            kwargs["client"] = client
    return kwargs


def _failure(exc: Exception, call: LLMCall) -> LLMError:
    return connect_refusal(exc) or translate_error(exc, call)


async def _open_stream(litellm: Any, call: LLMCall) -> Any:
    await check_target(call.litellm_model, call.api_base, call.allow_private)
    try:
        async with asyncio.timeout(call.connect_timeout + call.idle_timeout):
            return await litellm.acompletion(**_call_kwargs(call), stream=True,
                                             stream_options={"include_usage": True})
    except TimeoutError:
        raise LLMError("provider_timeout", "The model did not start answering in time.") from None
    except Exception as exc:
        raise _failure(exc, call) from None


async def _close_quietly(upstream: Any) -> None:
    closer = getattr(upstream, "aclose", None)
    if closer is None:
        return
    try:
        with anyio.CancelScope(shield=True):
            await closer()
    except Exception as exc:  # closing a broken stream may fail; the answer is already decided
        log.debug("closing the upstream stream failed: %s", type(exc).__name__)


def _take_tool_calls(chunk: Any, assembler: ToolCallAssembler) -> None:
    choices = getattr(chunk, "choices", None)
    if not choices:
        return
    for delta in getattr(getattr(choices[0], "delta", None), "tool_calls", None) or ():
        function = getattr(delta, "function", None)
        assembler.feed(getattr(delta, "index", None), getattr(delta, "id", None),
                       getattr(function, "name", None), getattr(function, "arguments", None))


def _chunk_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None)
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    return getattr(delta, "content", None) or ""


async def one_token_call(call: LLMCall) -> float:
    """A tiny non-streaming call that proves key, base and model work; returns seconds taken."""
    litellm = await load_litellm()
    await check_target(call.litellm_model, call.api_base, call.allow_private)
    started = time.monotonic()
    kwargs = {**_call_kwargs(call), "max_tokens": 1}
    try:
        async with asyncio.timeout(call.connect_timeout + call.idle_timeout):
            await litellm.acompletion(**kwargs)
    except TimeoutError:
        raise LLMError("provider_timeout", "The provider did not answer in time.") from None
    except Exception as exc:
        raise _failure(exc, call) from None
    return time.monotonic() - started


def partial_usage(model: str, messages: list[dict], produced: str) -> Usage:
    """Usage for an answer cut short (disconnect, error): estimated, and priced unless that would
    take importing LiteLLM."""
    usage = Usage(tokens_in=rough_tokens(" ".join(str(m.get("content", "")) for m in messages)),
                  tokens_out=rough_tokens(produced))
    if not model.startswith("builtin/") and (_litellm is not None or not needs_litellm_to_price(model)):
        usage.cost, usage.cost_note = price(_litellm, model, usage)
    return usage
