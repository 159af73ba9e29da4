"""Conversation logs: the filtered, cursor-paginated list and one conversation in full.
(The SQL is in chat/log_repo.py.)"""

from __future__ import annotations

from modelpilot.chat import log_repo, repo, tools_repo
from modelpilot.chat.log_repo import FEEDBACK_FILTERS, ConversationFilter
from modelpilot.core import answer_quality
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.dates import parse_range
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid, not_found

def make_filter(chatbot_id: str | None, start: str | None, end: str | None, q: str | None,
                feedback: str | None = None, unanswered: bool = False,
                resolved: bool | None = None) -> ConversationFilter:
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
    return ConversationFilter(chatbot_id or None, lower, upper, query, feedback or None, unanswered, resolved)


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


async def weak_answers(db: Database, workspace_id: str, chatbot_id: str | None, start: str | None,
                       end: str | None, limit: int) -> list[dict]:
    """The latest weak answers (core/answer_quality.py) that replied to a question, newest first:
    {message_id, conversation_id, chatbot_id, chatbot_name, question, reasons, created_at}.
    `start`/`end` are ISO bounds already parsed (core/dates.parse_range)."""
    async with db.read() as conn:
        rows = await log_repo.weak_answers(conn, workspace_id, chatbot_id, start, end, limit)
    return [{"message_id": row["message_id"], "conversation_id": row["conversation_id"],
             "chatbot_id": row["chatbot_id"], "chatbot_name": row["chatbot_name"], "question": row["question"],
             "reasons": answer_quality.reasons_of(row["weak_reasons"], row["feedback"]),
             "created_at": row["created_at"]} for row in rows if row["question"]]


async def answer_and_question(db: Database, workspace_id: str, conversation_id: str, message_id: str) -> dict:
    """An assistant answer of the conversation and the visitor's question before it; 404 for
    anything else (another workspace's, a visitor's message, an answer to no question)."""
    async with db.read() as conn:
        if await repo.get_conversation(conn, workspace_id, conversation_id) is None:
            raise not_found("conversation")
        row = await log_repo.answer_and_question(conn, workspace_id, conversation_id, message_id)
    if row is None or not row["question"]:
        raise not_found("message")
    return row
