"""Conversation logs: the filtered, cursor-paginated list and one conversation in full."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from modelpilot.chat import repo
from modelpilot.core.dates import parse_range
from modelpilot.core.db import Connection, Database, fetch_all
from modelpilot.core.errors import invalid, not_found

_OF_CONVERSATION = "FROM messages m WHERE m.workspace_id = c.workspace_id AND m.conversation_id = c.id"
# An answer is "unanswered" when no knowledge passed the bot's threshold: it had no sources, so the
# model guessed or the built-in model said it knows nothing. Failed answers count too.
_UNANSWERED = "m.role = 'assistant' AND (m.sources = '[]' OR m.status = 'error')"
LIST_COLUMNS = (
    "c.id, c.chatbot_id, b.name AS chatbot_name, c.session_id, c.channel, c.started_at, c.last_message_at,"
    f" c.message_count, (SELECT m.content {_OF_CONVERSATION} AND m.role = 'user'"
    " ORDER BY m.created_at, m.rowid LIMIT 1) AS preview,"
    f" (SELECT COUNT(*) {_OF_CONVERSATION} AND m.feedback = 1) AS feedback_up,"
    f" (SELECT COUNT(*) {_OF_CONVERSATION} AND m.feedback = -1) AS feedback_down,"
    f" (SELECT COUNT(*) {_OF_CONVERSATION} AND {_UNANSWERED}) AS unanswered_count"
)
FEEDBACK_FILTERS = {
    "up": f"EXISTS (SELECT 1 {_OF_CONVERSATION} AND m.feedback = 1)",
    "down": f"EXISTS (SELECT 1 {_OF_CONVERSATION} AND m.feedback = -1)",
    "none": f"NOT EXISTS (SELECT 1 {_OF_CONVERSATION} AND m.feedback IS NOT NULL AND m.feedback != 0)",
}


@dataclass(frozen=True)
class ConversationFilter:
    chatbot_id: str | None = None
    start: str | None = None
    end: str | None = None
    query: str | None = None
    feedback: str | None = None  # "up", "down" or "none"
    unanswered: bool = False


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


def list_item(row: dict) -> dict:
    """A row of the log: what was asked first, and whether anything went unanswered or was rated."""
    unanswered = row.pop("unanswered_count")
    up, down = row["feedback_up"], row["feedback_down"]
    return {**row, "first_question": row["preview"], "unanswered": unanswered > 0, "unanswered_count": unanswered,
            "feedback": "down" if down else "up" if up else None}


def fts_query(text: str) -> str:
    """Every word as a quoted term, so user text can never be FTS5 syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def encode_cursor(row: dict) -> str:
    raw = f"{row['last_message_at']}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        at, _, conversation_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("cursor", "is not a cursor from this list") from None
    if not at or not conversation_id:
        raise invalid("cursor", "is not a cursor from this list")
    return at, conversation_id


def _where(workspace_id: str, flt: ConversationFilter, after: tuple[str, str] | None) -> tuple[str, list]:
    clauses, params = ["c.workspace_id = ?"], [workspace_id]
    if flt.chatbot_id:
        clauses.append("c.chatbot_id = ?")
        params.append(flt.chatbot_id)
    if flt.start:
        clauses.append("c.last_message_at >= ?")
        params.append(flt.start)
    if flt.end:
        clauses.append("c.last_message_at < ?")
        params.append(flt.end)
    if flt.query:
        clauses.append("c.id IN (SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
                       " WHERE messages_fts MATCH ? AND m.workspace_id = ?)")
        params += [fts_query(flt.query), workspace_id]
    if flt.feedback:
        clauses.append(FEEDBACK_FILTERS[flt.feedback])
    if flt.unanswered:
        clauses.append(f"EXISTS (SELECT 1 {_OF_CONVERSATION} AND {_UNANSWERED})")
    if after:
        clauses.append("(c.last_message_at, c.id) < (?, ?)")
        params += list(after)
    return " AND ".join(clauses), params


async def conversation_page(conn: Connection, workspace_id: str, flt: ConversationFilter,
                            after: tuple[str, str] | None, limit: int) -> list[dict]:
    where, params = _where(workspace_id, flt, after)
    return await fetch_all(
        conn, f"SELECT {LIST_COLUMNS} FROM conversations c LEFT JOIN chatbots b ON b.id = c.chatbot_id"
              f" AND b.workspace_id = c.workspace_id WHERE {where}"
              " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?", [*params, limit])


async def list_conversations(db: Database, workspace_id: str, flt: ConversationFilter, cursor: str | None,
                             limit: int) -> dict:
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        rows = await conversation_page(conn, workspace_id, flt, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [list_item(row) for row in rows], "next_cursor": encode_cursor(rows[-1]) if more and rows else None}


async def conversation_detail(db: Database, workspace_id: str, conversation_id: str) -> dict:
    async with db.read() as conn:
        conversation = await repo.get_conversation(conn, workspace_id, conversation_id)
        if conversation is None:
            raise not_found("conversation")
        conversation["messages"] = await repo.conversation_messages(conn, workspace_id, conversation_id)
    return conversation
