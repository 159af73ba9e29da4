"""The one way to ask a model for an answer: `open_stream`.

Behind it, one of three answerers, all with the `AnswerStream` shape: the built-in extractive
answerer (no provider), the lean direct client for OpenAI-compatible servers, or LiteLLM for
everything else. Chat and its tool loop go through here and never pick among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol, Sequence

from modelpilot.providers import llm, price_map
from modelpilot.providers.direct import model_stream
from modelpilot.providers.extractive import ExtractiveStream
from modelpilot.providers.llm import LLMCall, Usage
from modelpilot.providers.models import BUILTIN_EXTRACTIVE, route_by_prefix
from modelpilot.providers.service import ResolvedModel
from modelpilot.providers.tool_calls import ToolCall
from modelpilot.settings import Settings


class AnswerStream(Protocol):
    """Iterate for the answer's text pieces; afterwards `usage` holds tokens and cost and
    `tool_calls` the complete calls the model asked for (empty when it just answered)."""

    usage: Usage
    tool_calls: list[ToolCall]

    def __aiter__(self) -> AsyncIterator[str]: ...


@dataclass(frozen=True)
class AnswerRequest:
    messages: list[dict]          # the prompt, system message first
    temperature: float
    max_tokens: int
    question: str = ""            # the visitor's words, for the extractive answerer
    knowledge: Sequence = ()      # retrieved chunks, for the extractive answerer
    tools: Sequence[dict] = ()    # OpenAI-style function tools; only where supports_tools() says yes


@dataclass(frozen=True)
class ToolSupport:
    supported: bool
    reason: str | None = None

    def public(self) -> dict:
        return {"supported": self.supported, "reason": self.reason}


EXTRACTIVE_REASON = ("The built-in extractive model answers from the knowledge alone and cannot use tools; "
                     "pick a model of a connected provider to use actions.")


def tool_support(model: str) -> ToolSupport:
    """Whether a bot's model can call tools. The built-in model cannot; a model LiteLLM's bundled
    catalog marks as without function calling cannot. Models the catalog does not know (local
    servers, new names) are offered tools: their servers mostly speak OpenAI's tool format.
    Read from the catalog once it is loaded (price_map.load_catalog; never read here, on the loop)."""
    if model == BUILTIN_EXTRACTIVE:
        return ToolSupport(False, EXTRACTIVE_REASON)
    catalog = price_map.loaded() or getattr(llm.loaded_litellm(), "model_cost", None)
    if not catalog:
        return ToolSupport(True)
    route = route_by_prefix(model)
    names = {model, route.litellm_model if route else model, model.partition("/")[2]}
    for name in names:
        info = catalog.get(name) if name else None
        if info and (info.get("supports_function_calling") is False or info.get("mode", "chat") != "chat"):
            return ToolSupport(False, f"The model {model} does not support tool calling (per LiteLLM's model "
                                      "catalog); it answers without tools.")
    return ToolSupport(True)


def supports_tools(resolved: ResolvedModel) -> bool:
    if resolved.builtin:
        return False
    return tool_support(resolved.route.litellm_model).supported


def open_stream(resolved: ResolvedModel, request: AnswerRequest, settings: Settings) -> AnswerStream:
    if resolved.builtin:
        prompt_text = " ".join(m["content"] or "" for m in request.messages)
        return ExtractiveStream(request.question, request.knowledge, prompt_text)
    tools = tuple(request.tools) if request.tools and supports_tools(resolved) else ()
    call = LLMCall(resolved.route.litellm_model, request.messages, resolved.api_key, resolved.api_base,
                   temperature=request.temperature, max_tokens=request.max_tokens,
                   connect_timeout=settings.llm_connect_timeout, idle_timeout=settings.llm_idle_timeout,
                   provider=resolved.route.provider, allow_private=settings.providers_may_reach_private,
                   tools=tools)
    return model_stream(call, resolved.route.provider, settings.llm_direct_openai)
