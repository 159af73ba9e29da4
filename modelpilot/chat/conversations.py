"""Conversation logs: the filtered, cursor-paginated list and one conversation in full.
(The SQL is in chat/log_repo.py.)"""

from __future__ import annotations

from modelpilot.chat import log_repo, repo, tools_repo
from modelpilot.chat.log_repo import FEEDBACK_FILTERS, ConversationFilter
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.dates import parse_range
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid, not_found

def make_filter(chatbot_id: str | None, start: str | None, end: str | None, q: str | None,
                feedback: str | None = None, unanswered: bool = False) -> ConversationFilter:
    lower, upper = parse_range(start, end)
    query = (q or "").strip() or None
    if query and len(query) > 200:
        raise invalid("q", "must be at most 200 characters")
    if query and not query.isprintable():  # NUL and other control characters break full-text search
        raise invalid("q", "must not contain control characters")
    if chatbot_id and not chatbot_id.isprintable():
        raise invalid("chatbot_id", "must not contain control characters")
    if feedback and feedback not in FEEDBACK_FILTERS:
        raise invalid("feedback", "must be one of: up, down, none")
    return ConversationFilter(chatbot_id or None, lower, upper, query, feedback or None, unanswered)


async def list_conversations(db: Database, workspace_id: str, flt: ConversationFilter, cursor: str | None,
                             limit: int) -> dict:
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        rows = await log_repo.conversation_page(conn, workspace_id, flt, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [row.public() for row in rows],
            "next_cursor": encode_cursor(rows[-1].conversation.last_message_at, rows[-1].conversation.id)
            if more and rows else None}


async def conversation_detail(db: Database, workspace_id: str, conversation_id: str) -> dict:
    async with db.read() as conn:
        conversation = await repo.get_conversation(conn, workspace_id, conversation_id)
        if conversation is None:
            raise not_found("conversation")
        messages = await repo.conversation_messages(conn, workspace_id, conversation_id)
        calls = await tools_repo.conversation_tool_calls(conn, workspace_id, conversation_id)
    shown = []
    for message in messages:
        public = message.public()
        if message.role == "assistant":
            public["tool_calls"] = calls.get(message.id, [])  # arguments and excerpts only: never a header
        shown.append(public)
    return {**conversation.public(), "messages": shown}
