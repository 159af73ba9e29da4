"""The OpenAI Chat Completions request as far as a chatbot uses it.

Fields a bot decides itself (temperature, max_tokens, tools, response_format, ...) and anything
unknown are accepted and ignored, as OpenAI-compatible servers do: the bot's settings apply.
"""

from __future__ import annotations

from typing import Any

import msgspec


class ChatMessage(msgspec.Struct):
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(msgspec.Struct):
    include_usage: bool | None = False


class CompletionRequest(msgspec.Struct):
    model: str
    messages: list[ChatMessage]
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: int | None = None
    user: str | None = None
