"""Conversations, messages and usage events. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.chat.entities import CONVERSATION_FIELDS, MESSAGE_FIELDS, Conversation, Message, Said
from modelpilot.core.db import Connection, dialect, execute, fetch_all, fetch_all_sync, fetch_one, run_on

# The columns each entity's fields name (a conversation's bot name comes from the join with chatbots b,
# its contact's name and e-mail from a display join on contacts).
MESSAGE_COLUMNS = ", ".join(f"m.{name}" for name in MESSAGE_FIELDS)
_CONTACT = "(SELECT k.{} FROM contacts k WHERE k.workspace_id = c.workspace_id AND k.id = c.contact_id)"
_DISPLAYED = {"chatbot_name": "b.name AS chatbot_name", "contact_name": _CONTACT.format("name") + " AS contact_name",
              "contact_email": _CONTACT.format("email") + " AS contact_email"}
CONVERSATION_COLUMNS = ", ".join(_DISPLAYED.get(name, f"c.{name}") for name in CONVERSATION_FIELDS)


# What a turn's history needs of the session's last messages: who said what, newest first.
_RECENT_LINES = (
    "SELECT m.role, m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " WHERE c.workspace_id = ? AND c.chatbot_id = ? AND c.channel = ? AND c.session_id = ?"
    " AND m.workspace_id = ? ORDER BY m.created_at DESC, m.rowid DESC LIMIT ?")


def recent_lines_sync(conn, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                      limit: int) -> list[Said]:
    """The session's last `limit` messages as the model's history reads them, newest first (only
    role and content: every turn reads these, and whole messages cost it their JSON fields)."""
    rows = fetch_all_sync(conn, _RECENT_LINES, (workspace_id, chatbot_id, channel, session_id, workspace_id, limit))
    return [Said(row["role"], row["content"]) for row in rows]


async def recent_lines(conn: Connection, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                       limit: int) -> list[Said]:
    return await run_on(conn, lambda sync: recent_lines_sync(sync, workspace_id, chatbot_id, channel, session_id,
                                                             limit))


_UPSERT_CONVERSATION = (
    "INSERT INTO conversations (id, workspace_id, chatbot_id, session_id, channel, visitor_ip_hash,"
    " started_at, last_message_at, message_count, contact_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (chatbot_id, channel, session_id) DO UPDATE SET last_message_at = excluded.last_message_at,"
    " message_count = conversations.message_count + excluded.message_count,"
    " contact_id = COALESCE(excluded.contact_id, conversations.contact_id)"
    " WHERE conversations.workspace_id = excluded.workspace_id RETURNING id")
_JSON_FIELDS = ("sources", "weak_reasons")
_INSERT_MESSAGE = (f"INSERT INTO messages (workspace_id, {', '.join(MESSAGE_FIELDS)})"
                   f" VALUES ({','.join('?' * (1 + len(MESSAGE_FIELDS)))})")
_INSERT_USAGE = (
    "INSERT INTO usage_events (id, workspace_id, chatbot_id, conversation_id, message_id, channel, model,"
    " tokens_in, tokens_out, cost, latency_ms, created_at, billable) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


def _conversation_params(workspace_id: str, row: dict) -> tuple:
    return (row["id"], workspace_id, row["chatbot_id"], row["session_id"], row["channel"], row["visitor_ip_hash"],
            row["started_at"], row["last_message_at"], row.get("contact_id"))


def _message_params(workspace_id: str, message: Message) -> tuple:
    return (workspace_id, *(json.dumps(getattr(message, name)) if name in _JSON_FIELDS else getattr(message, name)
                            for name in MESSAGE_FIELDS))


def _usage_params(workspace_id: str, row: dict) -> tuple:
    return (row["id"], workspace_id, row["chatbot_id"], row["conversation_id"], row["message_id"], row["channel"],
            row["model"], row["tokens_in"], row["tokens_out"], row["cost"], row["latency_ms"], row["created_at"],
            int(row.get("billable", True)))


# Saving a turn runs on the writer's own blocking connection, in Database.run_write: one hop to
# the writer thread for the whole transaction instead of one per statement.
def upsert_conversation_sync(conn, workspace_id: str, row: dict, added: int = 2) -> str:
    """The session's conversation (created if new), with `added` more messages counted."""
    params = _conversation_params(workspace_id, row)  # ends with contact_id, which comes after the count
    return conn.execute(_UPSERT_CONVERSATION, (*params[:-1], added, params[-1])).fetchone()[0]


def insert_message_sync(conn, workspace_id: str, message: Message) -> None:
    conn.execute(_INSERT_MESSAGE, _message_params(workspace_id, message))


# SQLite's planner (no ANALYZE statistics) takes messages_workspace (workspace_id, created_at) for
# this statement, which reads every message of the workspace's last REPEAT_MINUTES inside the turn's
# write transaction: 2.4 ms a turn with 8,000 of them, growing with the workspace's traffic. The
# conversation's own index reads only its messages; Postgres picks it from its statistics.
_RECENT_QUESTIONS = (
    "SELECT content FROM messages{} WHERE workspace_id = ? AND conversation_id = ? AND role = 'user'"
    " AND created_at >= ? ORDER BY created_at DESC LIMIT 20")
_RECENT_QUESTIONS_SQL = {"sqlite": _RECENT_QUESTIONS.format(" INDEXED BY messages_conversation"),
                         "postgres": _RECENT_QUESTIONS.format("")}


def recent_questions_sync(conn, workspace_id: str, conversation_id: str, since: str) -> list[str]:
    """The visitor's questions in the conversation since `since` (ISO time), newest first."""
    rows = conn.execute(_RECENT_QUESTIONS_SQL[dialect(conn)], (workspace_id, conversation_id, since)).fetchall()
    return [row[0] for row in rows]


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


# ---- a contact's conversations (contacts asks through chat/contact_links.py) -------------------

async def conversation_counts_by_contact(conn: Connection, workspace_id: str, contact_ids: list[str]) -> dict[str, int]:
    marks = ",".join("?" * len(contact_ids))
    rows = await fetch_all(conn, f"SELECT contact_id, COUNT(*) AS n FROM conversations WHERE workspace_id = ?"
                                 f" AND contact_id IN ({marks}) GROUP BY contact_id", [workspace_id, *contact_ids])
    return {row["contact_id"]: int(row["n"]) for row in rows}


async def contact_conversations(conn: Connection, workspace_id: str, contact_id: str) -> list[dict]:
    return await fetch_all(
        conn, "SELECT c.id, c.chatbot_id, b.name AS chatbot_name, c.channel, c.status, c.started_at,"
              " c.last_message_at, c.message_count FROM conversations c LEFT JOIN chatbots b ON b.id = c.chatbot_id"
              " AND b.workspace_id = c.workspace_id WHERE c.workspace_id = ? AND c.contact_id = ?"
              " ORDER BY c.last_message_at DESC, c.id DESC", (workspace_id, contact_id))


async def delete_contact_conversations(conn: Connection, workspace_id: str, contact_id: str) -> dict:
    """Every conversation of the contact; messages (and their full-text rows, by trigger) by cascade."""
    messages = await fetch_one(
        conn, "SELECT COUNT(*) AS n FROM messages m WHERE m.workspace_id = ? AND m.conversation_id IN"
              " (SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?)",
        (workspace_id, workspace_id, contact_id))
    deleted = await execute(conn, "DELETE FROM conversations WHERE workspace_id = ? AND contact_id = ?",
                            (workspace_id, contact_id))
    return {"conversations": deleted, "messages": int(messages["n"])}


async def link_session_contact(conn: Connection, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                               contact_id: str) -> dict | None:
    """The session's conversation, now the contact's: {id, session_id, channel, status}, or None."""
    await execute(conn, "UPDATE conversations SET contact_id = ? WHERE workspace_id = ? AND chatbot_id = ?"
                        " AND channel = ? AND session_id = ?",
                  (contact_id, workspace_id, chatbot_id, channel, session_id))
    return await fetch_one(conn, "SELECT id, session_id, channel, status FROM conversations WHERE workspace_id = ?"
                                 " AND chatbot_id = ? AND channel = ? AND session_id = ?",
                           (workspace_id, chatbot_id, channel, session_id))


async def count_visitor_messages(conn: Connection, workspace_id: str, conversation_id: str) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ? AND conversation_id = ?"
                                " AND role = 'user'", (workspace_id, conversation_id))
    return int(row["n"])
