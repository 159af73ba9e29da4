"""Conversations, messages and usage events. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.chat.entities import CONVERSATION_FIELDS, MESSAGE_FIELDS, Conversation, Message
from modelpilot.core.db import Connection, execute, fetch_all, fetch_one

# The columns each entity's fields name (a conversation's bot name comes from the join with chatbots b).
MESSAGE_COLUMNS = ", ".join(f"m.{name}" for name in MESSAGE_FIELDS)
CONVERSATION_COLUMNS = ", ".join("b.name AS chatbot_name" if name == "chatbot_name" else f"c.{name}"
                                 for name in CONVERSATION_FIELDS)


async def recent_messages(conn: Connection, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                          limit: int) -> list[Message]:
    """The session's last `limit` messages, newest first."""
    rows = await fetch_all(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.workspace_id = ? AND c.chatbot_id = ? AND c.channel = ? AND c.session_id = ?"
        " AND m.workspace_id = ? ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?",
        (workspace_id, chatbot_id, channel, session_id, workspace_id, limit),
    )
    return [Message.from_row(row) for row in rows]


_UPSERT_CONVERSATION = (
    "INSERT INTO conversations (id, workspace_id, chatbot_id, session_id, channel, visitor_ip_hash,"
    " started_at, last_message_at, message_count) VALUES (?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (chatbot_id, channel, session_id) DO UPDATE SET last_message_at = excluded.last_message_at,"
    " message_count = conversations.message_count + excluded.message_count"
    " WHERE conversations.workspace_id = excluded.workspace_id"
    " RETURNING id")
_INSERT_MESSAGE = (f"INSERT INTO messages (workspace_id, {', '.join(MESSAGE_FIELDS)})"
                   f" VALUES ({','.join('?' * (1 + len(MESSAGE_FIELDS)))})")
_INSERT_USAGE = (
    "INSERT INTO usage_events (id, workspace_id, chatbot_id, conversation_id, message_id, channel, model,"
    " tokens_in, tokens_out, cost, latency_ms, created_at, billable) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


def _conversation_params(workspace_id: str, row: dict) -> tuple:
    return (row["id"], workspace_id, row["chatbot_id"], row["session_id"], row["channel"], row["visitor_ip_hash"],
            row["started_at"], row["last_message_at"])


def _message_params(workspace_id: str, message: Message) -> tuple:
    return (workspace_id, *(json.dumps(message.sources) if name == "sources" else getattr(message, name)
                            for name in MESSAGE_FIELDS))


def _usage_params(workspace_id: str, row: dict) -> tuple:
    return (row["id"], workspace_id, row["chatbot_id"], row["conversation_id"], row["message_id"], row["channel"],
            row["model"], row["tokens_in"], row["tokens_out"], row["cost"], row["latency_ms"], row["created_at"],
            int(row.get("billable", True)))


# Saving a turn runs on the writer's own blocking connection, in Database.run_write: one hop to
# the writer thread for the whole transaction instead of one per statement.
def upsert_conversation_sync(conn, workspace_id: str, row: dict, added: int = 2) -> str:
    """The session's conversation (created if new), with `added` more messages counted."""
    return conn.execute(_UPSERT_CONVERSATION, (*_conversation_params(workspace_id, row), added)).fetchone()[0]


def insert_message_sync(conn, workspace_id: str, message: Message) -> None:
    conn.execute(_INSERT_MESSAGE, _message_params(workspace_id, message))


def insert_usage_event_sync(conn, workspace_id: str, row: dict) -> None:
    conn.execute(_INSERT_USAGE, _usage_params(workspace_id, row))


async def session_messages(conn: Connection, workspace_id: str, chatbot_id: str, channel: str,
                           session_id: str) -> list[Message]:
    rows = await fetch_all(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id WHERE c.workspace_id = ? AND c.chatbot_id = ?"
        " AND c.channel = ? AND c.session_id = ? AND m.workspace_id = ? ORDER BY m.created_at, m.rowid",
        (workspace_id, chatbot_id, channel, session_id, workspace_id),
    )
    return [Message.from_row(row) for row in rows]


async def set_feedback(conn: Connection, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                       message_id: str, rating: int) -> bool:
    return await execute(
        conn,
        "UPDATE messages SET feedback = ? WHERE workspace_id = ? AND id = ? AND role = 'assistant'"
        " AND conversation_id = (SELECT id FROM conversations WHERE workspace_id = ? AND chatbot_id = ?"
        " AND channel = ? AND session_id = ?)",
        (rating, workspace_id, message_id, workspace_id, chatbot_id, channel, session_id),
    ) > 0


async def get_conversation(conn: Connection, workspace_id: str, conversation_id: str) -> Conversation | None:
    row = await fetch_one(
        conn,
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations c LEFT JOIN chatbots b ON b.id = c.chatbot_id"
        " WHERE c.workspace_id = ? AND c.id = ?",
        (workspace_id, conversation_id),
    )
    return None if row is None else Conversation.from_row(row)


async def conversation_messages(conn: Connection, workspace_id: str, conversation_id: str) -> list[Message]:
    rows = await fetch_all(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.workspace_id = ? AND m.conversation_id = ?"
        " ORDER BY m.created_at, m.rowid",
        (workspace_id, conversation_id),
    )
    return [Message.from_row(row) for row in rows]


async def delete_conversation(conn: Connection, workspace_id: str, conversation_id: str) -> int:
    """Its messages (and their full-text rows, by trigger) go with it by cascade."""
    return await execute(conn, "DELETE FROM conversations WHERE workspace_id = ? AND id = ?",
                         (workspace_id, conversation_id))


async def delete_conversations_before(conn: Connection, workspace_id: str, cutoff: str, limit: int) -> int:
    """Up to `limit` conversations whose last message is older than cutoff (ISO time)."""
    return await execute(
        conn,
        "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations WHERE workspace_id = ?"
        " AND last_message_at < ? LIMIT ?)",
        (workspace_id, cutoff, limit),
    )


async def rated_message(conn: Connection, workspace_id: str, message_id: str) -> dict | None:
    """A rated answer with its conversation and the question just before it, for message.feedback."""
    answer = await fetch_one(
        conn,
        "SELECT m.id, m.role, m.content, m.feedback, m.created_at, m.conversation_id, c.channel, c.session_id,"
        " c.chatbot_id, b.name AS chatbot_name FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " LEFT JOIN chatbots b ON b.id = c.chatbot_id"
        " WHERE m.workspace_id = ? AND m.id = ? AND c.workspace_id = ?",
        (workspace_id, message_id, workspace_id))
    if answer is None:
        return None
    answer["question"] = await fetch_one(
        conn,
        "SELECT id, role, content, created_at FROM messages WHERE workspace_id = ? AND conversation_id = ?"
        " AND role = 'user' AND created_at <= ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (workspace_id, answer["conversation_id"], answer["created_at"]))
    return answer
