"""SQL of the conversation log: the filtered, cursor-paginated list and the export's pages."""

from __future__ import annotations

from dataclasses import dataclass

from modelpilot.chat.entities import LoggedConversation, Message
from modelpilot.chat.repo import CONVERSATION_COLUMNS, MESSAGE_COLUMNS
from modelpilot.core import answer_quality
from modelpilot.core.db import Connection, dialect, fetch_all

_OF_CONVERSATION = "FROM messages m WHERE m.workspace_id = c.workspace_id AND m.conversation_id = c.id"
# An answer is "unanswered" when it is weak by core/answer_quality.py's rule: no knowledge passed the
# bot's threshold, it failed, it was rated down, a person was asked for after it, or its question
# repeated an earlier one.
_UNANSWERED = answer_quality.weak_answer("m")
LIST_COLUMNS = (
    f"{CONVERSATION_COLUMNS}, (SELECT m.content {_OF_CONVERSATION} AND m.role = 'user'"
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
    resolved: bool | None = None  # core/answer_quality.py's rule; None: either


def fts_query(text: str) -> str:
    """Every word as a quoted term, so user text can never be FTS5 syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _text_match(dialect_name: str, workspace_id: str, text: str) -> tuple[str, list]:
    """Conversations with a message holding every word of `text` (each a whole token, or for a
    word with punctuation its tokens in a row: FTS5's quoted phrase on SQLite, phraseto_tsquery on
    Postgres; modelpilot_simple (migration 0012: unaccent, then 'simple'), like unicode61 with
    remove_diacritics, folds case and accents and does not stem)."""
    if dialect_name == "postgres":
        words = text.split()
        each = " AND ".join(["m.content_tsv @@ phraseto_tsquery('modelpilot_simple', ?)"] * len(words)) or "false"
        return (f"c.id IN (SELECT m.conversation_id FROM messages m WHERE m.workspace_id = ? AND {each})",
                [workspace_id, *words])
    return ("c.id IN (SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
            " WHERE messages_fts MATCH ? AND m.workspace_id = ?)", [fts_query(text), workspace_id])


def _where(workspace_id: str, flt: ConversationFilter, after: tuple[str, str] | None,
           dialect_name: str = "sqlite") -> tuple[str, list]:
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
        clause, clause_params = _text_match(dialect_name, workspace_id, flt.query)
        clauses.append(clause)
        params += clause_params
    if flt.feedback:
        clauses.append(FEEDBACK_FILTERS[flt.feedback])
    if flt.unanswered:
        clauses.append(f"EXISTS (SELECT 1 {_OF_CONVERSATION} AND {_UNANSWERED})")
    if flt.resolved is not None:
        clauses.append(answer_quality.resolved("c") if flt.resolved else answer_quality.unresolved("c"))
    if after:
        clauses.append("(c.last_message_at, c.id) < (?, ?)")
        params += list(after)
    return " AND ".join(clauses), params


async def conversation_page(conn: Connection, workspace_id: str, flt: ConversationFilter,
                            after: tuple[str, str] | None, limit: int) -> list[LoggedConversation]:
    where, params = _where(workspace_id, flt, after, dialect(conn))
    rows = await fetch_all(
        conn, f"SELECT {LIST_COLUMNS} FROM conversations c LEFT JOIN chatbots b ON b.id = c.chatbot_id"
              f" AND b.workspace_id = c.workspace_id WHERE {where}"
              " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?", [*params, limit])
    return [LoggedConversation.from_row(row) for row in rows]


async def export_messages(conn: Connection, workspace_id: str, conversation_ids: list[str]) -> list[Message]:
    """Every message of these conversations, in the order they were written."""
    marks = ",".join("?" * len(conversation_ids))
    rows = await fetch_all(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM messages m"
        f" WHERE m.workspace_id = ? AND m.conversation_id IN ({marks}) ORDER BY m.created_at, m.rowid",
        [workspace_id, *conversation_ids],
    )
    return [Message.from_row(row) for row in rows]


# The visitor's question an answer replies to: the conversation's last user message at or before it.
_QUESTION_OF = ("(SELECT q.content FROM messages q WHERE q.workspace_id = m.workspace_id"
                " AND q.conversation_id = m.conversation_id AND q.role = 'user' AND q.created_at <= m.created_at"
                " ORDER BY q.created_at DESC, q.rowid DESC LIMIT 1)")


async def weak_answers(conn: Connection, workspace_id: str, chatbot_id: str | None, start: str | None,
                       end: str | None, limit: int) -> list[dict]:
    """The latest `limit` weak answers (core/answer_quality.py) with the question each replied to:
    {message_id, conversation_id, chatbot_id, chatbot_name, weak_reasons, feedback, created_at, question}."""
    clauses, params = ["m.workspace_id = ?", _UNANSWERED], [workspace_id]
    for clause, value in (("m.chatbot_id = ?", chatbot_id), ("m.created_at >= ?", start), ("m.created_at < ?", end)):
        if value:
            clauses.append(clause)
            params.append(value)
    return await fetch_all(
        conn, f"SELECT m.id AS message_id, m.conversation_id, m.chatbot_id, b.name AS chatbot_name, m.weak_reasons,"
              f" m.feedback, m.created_at, {_QUESTION_OF} AS question FROM messages m LEFT JOIN chatbots b"
              f" ON b.id = m.chatbot_id AND b.workspace_id = m.workspace_id WHERE {' AND '.join(clauses)}"
              " ORDER BY m.created_at DESC, m.id DESC LIMIT ?", [*params, limit])


async def answer_and_question(conn: Connection, workspace_id: str, conversation_id: str,
                              message_id: str) -> dict | None:
    """One assistant answer of the conversation with the question it replied to:
    {message_id, conversation_id, chatbot_id, content, question}, or None."""
    rows = await fetch_all(
        conn, f"SELECT m.id AS message_id, m.conversation_id, m.chatbot_id, m.content, {_QUESTION_OF} AS question"
              " FROM messages m WHERE m.workspace_id = ? AND m.conversation_id = ? AND m.id = ?"
              " AND m.role = 'assistant'", [workspace_id, conversation_id, message_id])
    return rows[0] if rows else None
