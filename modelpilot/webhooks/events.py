"""The event types endpoints subscribe to, and the shapes of their payloads.

Every payload carries ids plus what a receiver needs to act without calling back (the bot's
name, the channel, the messages themselves). Conversation events share `conversation_data`, so
the handoff events (built elsewhere) and `lead.created` (with a `contact` beside it) look alike.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES = (
    "lead.created", "conversation.started", "conversation.handoff_requested", "conversation.assigned",
    "conversation.closed", "message.feedback", "question.unanswered", "document.indexed", "document.failed",
)
TEST_EVENT = "webhook.test"
EXCERPT_CHARS = 2000  # message text in a payload is cut here; receivers get enough to act on


def _text(value: str | None) -> str:
    value = value or ""
    return value if len(value) <= EXCERPT_CHARS else value[:EXCERPT_CHARS] + "…"


def message_data(message: dict) -> dict:
    return {"id": message.get("id"), "role": message.get("role"), "content": _text(message.get("content")),
            "created_at": message.get("created_at")}


def conversation_data(conversation_id: str, bot_id: str, bot_name: str, channel: str, session_id: str,
                      messages: list[dict], **extra: Any) -> dict:
    """The conversation part of conversation.* events: its bot, channel and latest messages."""
    return {"conversation": {"id": conversation_id, "channel": channel, "session_id": session_id,
                             "chatbot": {"id": bot_id, "name": bot_name},
                             "messages": [message_data(m) for m in messages], **extra}}


def document_data(doc: dict) -> dict:
    return {"document": {key: doc.get(key) for key in (
        "id", "chatbot_id", "title", "source_type", "source", "status", "chunk_count", "error", "indexed_at",
        "updated_at")}}
