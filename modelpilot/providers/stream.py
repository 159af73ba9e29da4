"""The one way to ask a model for an answer: `open_stream`.

Behind it, one of three answerers, all with the `AnswerStream` shape: the built-in extractive
answerer (no provider), the lean direct client for OpenAI-compatible servers, or LiteLLM for
everything else. Chat (and, next, tool calls) goes through here and never picks among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol, Sequence

from modelpilot.providers.direct import model_stream
from modelpilot.providers.extractive import ExtractiveStream
from modelpilot.providers.llm import LLMCall, Usage
from modelpilot.providers.service import ResolvedModel
from modelpilot.settings import Settings


class AnswerStream(Protocol):
    """Iterate for the answer's text pieces; afterwards `usage` holds tokens and cost."""

    usage: Usage

    def __aiter__(self) -> AsyncIterator[str]: ...


@dataclass(frozen=True)
class AnswerRequest:
    messages: list[dict]          # the prompt, system message first
    temperature: float
    max_tokens: int
    question: str = ""            # the visitor's words, for the extractive answerer
    knowledge: Sequence = ()      # retrieved chunks, for the extractive answerer


def open_stream(resolved: ResolvedModel, request: AnswerRequest, settings: Settings) -> AnswerStream:
    if resolved.builtin:
        prompt_text = " ".join(m["content"] for m in request.messages)
        return ExtractiveStream(request.question, request.knowledge, prompt_text)
    call = LLMCall(resolved.route.litellm_model, request.messages, resolved.api_key, resolved.api_base,
                   temperature=request.temperature, max_tokens=request.max_tokens,
                   connect_timeout=settings.llm_connect_timeout, idle_timeout=settings.llm_idle_timeout,
                   provider=resolved.route.provider, allow_private=settings.providers_may_reach_private)
    return model_stream(call, resolved.route.provider, settings.llm_direct_openai)
