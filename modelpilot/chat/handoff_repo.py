"""SQL of the human handoff: conversation status, operator/system messages, the event log, the
inbox. Every query names its workspace (the waiting-mail scan is the one fleet-wide read)."""

from __future__ import annotations

import json

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_one_sync, fetch_value, run_on

# The display name of an assignee: a member's name, else their e-mail (display join on users).
_ASSIGNEE_NAME = "(SELECT COALESCE(NULLIF(u.name, ''), u.email) FROM users u WHERE u.id = c.assignee_id)"
# A conversation's contact (display join on contacts).
_CONTACT = "(SELECT k.{} FROM contacts k WHERE k.workspace_id = c.workspace_id AND k.id = c.contact_id)"
STATE_COLUMNS = (
    "c.id, c.workspace_id, c.chatbot_id, c.session_id, c.channel, c.status, c.assignee_id,"
    f" {_ASSIGNEE_NAME} AS assignee_name, c.waiting_since, c.last_message_at, c.page_url, c.handoff_at,"
    f" c.first_human_reply_at, c.contact_id, {_CONTACT.format('name')} AS contact_name,"
    f" {_CONTACT.format('email')} AS contact_email")


async def conversation_state(conn: Connection, workspace_id: str, conversation_id: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {STATE_COLUMNS} FROM conversations c WHERE c.workspace_id = ? AND c.id = ?",
                           (workspace_id, conversation_id))


_SESSION_STATE = (f"SELECT {STATE_COLUMNS} FROM conversations c WHERE c.workspace_id = ? AND c.chatbot_id = ?"
                  " AND c.channel = ? AND c.session_id = ?")


def session_state_sync(conn, workspace_id: str, chatbot_id: str, channel: str, session_id: str) -> dict | None:
    return fetch_one_sync(conn, _SESSION_STATE, (workspace_id, chatbot_id, channel, session_id))


async def session_state(conn: Connection, workspace_id: str, chatbot_id: str, channel: str,
                        session_id: str) -> dict | None:
    return await run_on(conn, lambda sync: session_state_sync(sync, workspace_id, chatbot_id, channel, session_id))


async def ensure_conversation(conn: Connection, workspace_id: str, row: dict) -> None:
    """The session's conversation, created empty when it has none yet."""
    await execute(
        conn,
        "INSERT INTO conversations (id, workspace_id, chatbot_id, session_id, channel, visitor_ip_hash, started_at,"
        " last_message_at, message_count, contact_id) VALUES (?,?,?,?,?,?,?,?,0,?)"
        " ON CONFLICT (chatbot_id, channel, session_id) DO NOTHING",
        (row["id"], workspace_id, row["chatbot_id"], row["session_id"], row["channel"], row["visitor_ip_hash"],
         row["now"], row["now"], row.get("contact_id")))


async def set_status(conn: Connection, workspace_id: str, conversation_id: str, status: str,
                     assignee_id: str | None, waiting_since: str | None) -> None:
    await execute(
        conn, "UPDATE conversations SET status = ?, assignee_id = ?, waiting_since = ? WHERE workspace_id = ? AND id = ?",
        (status, assignee_id, waiting_since, workspace_id, conversation_id))


async def mark_handoff(conn: Connection, workspace_id: str, conversation_id: str, at: str) -> None:
    """The first time this conversation asked for a person (analytics: handoffs, time to reply)."""
    await execute(conn, "UPDATE conversations SET handoff_at = COALESCE(handoff_at, ?) WHERE workspace_id = ? AND id = ?",
                  (at, workspace_id, conversation_id))


async def last_answer(conn: Connection, workspace_id: str, conversation_id: str) -> dict | None:
    """The conversation's latest assistant answer: {id, weak_reasons}, or None."""
    return await fetch_one(conn, "SELECT id, weak_reasons FROM messages WHERE workspace_id = ? AND conversation_id = ?"
                                 " AND role = 'assistant' ORDER BY created_at DESC, rowid DESC LIMIT 1",
                           (workspace_id, conversation_id))


async def set_weak_reasons(conn: Connection, workspace_id: str, message_id: str, weak_reasons: str) -> None:
    await execute(conn, "UPDATE messages SET weak_reasons = ? WHERE workspace_id = ? AND id = ?",
                  (weak_reasons, workspace_id, message_id))


async def mark_human_reply(conn: Connection, workspace_id: str, conversation_id: str, at: str) -> None:
    await execute(conn, "UPDATE conversations SET first_human_reply_at = COALESCE(first_human_reply_at, ?)"
                        " WHERE workspace_id = ? AND id = ?", (at, workspace_id, conversation_id))


async def set_page_url(conn: Connection, workspace_id: str, conversation_id: str, page_url: str) -> None:
    await execute(conn, "UPDATE conversations SET page_url = ? WHERE workspace_id = ? AND id = ?",
                  (page_url, workspace_id, conversation_id))


async def insert_message(conn: Connection, workspace_id: str, row: dict) -> None:
    """A visitor, operator or system message outside a bot turn; the conversation counts it."""
    await execute(
        conn,
        "INSERT INTO messages (id, workspace_id, conversation_id, chatbot_id, role, content, author_id, author_name,"
        " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (row["id"], workspace_id, row["conversation_id"], row["chatbot_id"], row["role"], row["content"],
         row.get("author_id"), row.get("author_name"), row["created_at"]))
    await execute(
        conn, "UPDATE conversations SET message_count = message_count + 1, last_message_at = ?"
              " WHERE workspace_id = ? AND id = ?", (row["created_at"], workspace_id, row["conversation_id"]))


async def insert_event(conn: Connection, workspace_id: str, row: dict) -> int:
    return int(await fetch_value(
        conn,
        "INSERT INTO conversation_events (workspace_id, conversation_id, chatbot_id, type, status, assignee_id,"
        " assignee_name, message, created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
        (workspace_id, row["conversation_id"], row["chatbot_id"], row["type"], row["status"], row["assignee_id"],
         row["assignee_name"], json.dumps(row["message"]) if row["message"] else None, row["created_at"])))


_EVENT_COLUMNS = ("e.id, e.conversation_id, e.chatbot_id, e.type, e.status, e.assignee_id, e.assignee_name,"
                  " e.message, e.created_at")


def _decode_events(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["message"] = json.loads(row["message"]) if row["message"] else None
    return rows


async def session_events_after(conn: Connection, workspace_id: str, chatbot_id: str, session_id: str,
                               after: int, limit: int) -> list[dict]:
    """The widget session's logged events past `after`, oldest first."""
    return _decode_events(await fetch_all(
        conn,
        f"SELECT {_EVENT_COLUMNS} FROM conversation_events e JOIN conversations c ON c.id = e.conversation_id"
        " WHERE c.workspace_id = ? AND c.chatbot_id = ? AND c.channel = 'widget' AND c.session_id = ?"
        " AND e.workspace_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
        (workspace_id, chatbot_id, session_id, workspace_id, after, limit)))


async def workspace_events_after(conn: Connection, workspace_id: str, after: int, limit: int) -> list[dict]:
    return _decode_events(await fetch_all(
        conn, f"SELECT {_EVENT_COLUMNS} FROM conversation_events e WHERE e.workspace_id = ? AND e.id > ?"
              " ORDER BY e.id LIMIT ?", (workspace_id, after, limit)))


async def last_session_event(conn: Connection, workspace_id: str, chatbot_id: str, session_id: str) -> int:
    return int(await fetch_value(
        conn, "SELECT COALESCE(MAX(e.id), 0) FROM conversation_events e JOIN conversations c"
              " ON c.id = e.conversation_id WHERE c.workspace_id = ? AND c.chatbot_id = ? AND c.channel = 'widget'"
              " AND c.session_id = ? AND e.workspace_id = ?", (workspace_id, chatbot_id, session_id, workspace_id)))


async def last_workspace_event(conn: Connection, workspace_id: str) -> int:
    return int(await fetch_value(conn, "SELECT COALESCE(MAX(id), 0) FROM conversation_events WHERE workspace_id = ?",
                                 (workspace_id,)))


async def message_authors(conn: Connection, workspace_id: str, conversation_id: str) -> dict[str, str]:
    """message id -> author name, for the conversation's operator messages."""
    rows = await fetch_all(conn, "SELECT id, author_name FROM messages WHERE workspace_id = ? AND conversation_id = ?"
                                 " AND author_name IS NOT NULL", (workspace_id, conversation_id))
    return {row["id"]: row["author_name"] for row in rows}


# The inbox: waiting first (longest wait on top), then the caller's, then other live ones.
_LIVE = "c.status IN ('waiting', 'human')"
INBOX_FILTERS = {
    "waiting": "c.status = 'waiting'",
    "human": "c.status = 'human'",
    "mine": "c.status = 'human' AND c.assignee_id = ?",
    "all": _LIVE,
}
_RANK = "CASE WHEN c.status = 'waiting' THEN 0 WHEN c.assignee_id = ? THEN 1 ELSE 2 END"
_PREVIEW = ("(SELECT m.content FROM messages m WHERE m.workspace_id = c.workspace_id AND m.conversation_id = c.id"
            " AND m.role != 'system' ORDER BY m.created_at DESC, m.rowid DESC LIMIT 1)")
_VISITOR_SAID = _PREVIEW.replace("m.role != 'system'", "m.role = 'user'")  # the visitor's own last words


async def inbox_page(conn: Connection, workspace_id: str, status: str, user_id: str, chatbot_id: str | None,
                     offset: int, limit: int) -> list[dict]:
    clauses, params = ["c.workspace_id = ?", INBOX_FILTERS[status]], [workspace_id]
    if status == "mine":
        params.append(user_id)
    if chatbot_id:
        clauses.append("c.chatbot_id = ?")
        params.append(chatbot_id)
    return await fetch_all(
        conn,
        "SELECT c.id, c.chatbot_id, b.name AS chatbot_name, c.status, c.assignee_id,"
        f" {_ASSIGNEE_NAME} AS assignee_name, c.waiting_since, c.last_message_at, c.page_url, c.contact_id,"
        f" {_CONTACT.format('name')} AS contact_name, {_CONTACT.format('email')} AS contact_email,"
        f" {_PREVIEW} AS last_message_preview FROM conversations c"
        " LEFT JOIN chatbots b ON b.id = c.chatbot_id AND b.workspace_id = c.workspace_id"
        f" WHERE {' AND '.join(clauses)} ORDER BY {_RANK},"
        " CASE WHEN c.status = 'waiting' THEN c.waiting_since END, c.last_message_at DESC, c.id LIMIT ? OFFSET ?",
        [*params, user_id, limit, offset])


async def inbox_counts(conn: Connection, workspace_id: str, user_id: str) -> dict:
    row = await fetch_one(
        conn,
        "SELECT COALESCE(SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END), 0) AS waiting,"
        " COALESCE(SUM(CASE WHEN status = 'human' AND assignee_id = ? THEN 1 ELSE 0 END), 0) AS mine,"
        " COALESCE(SUM(CASE WHEN status = 'human' THEN 1 ELSE 0 END), 0) AS human"
        " FROM conversations WHERE workspace_id = ? AND status IN ('waiting', 'human')",
        (user_id, workspace_id))
    return {name: int(row[name]) for name in ("waiting", "mine", "human")}


async def waiting_unnotified(conn: Connection, cutoff: str, limit: int) -> list[dict]:
    """Fleet-wide scan for the waiting-mail job: conversations waiting since before cutoff whose
    current wait has not been announced."""
    return await fetch_all(
        conn,
        "SELECT c.id, c.workspace_id, c.chatbot_id, c.waiting_since, c.page_url, b.name AS chatbot_name,"
        f" {_VISITOR_SAID} AS last_message_preview FROM conversations c"
        " LEFT JOIN chatbots b ON b.id = c.chatbot_id AND b.workspace_id = c.workspace_id"
        " WHERE c.status = 'waiting' AND c.waiting_since < ?"
        " AND (c.waiting_notified IS NULL OR c.waiting_notified != c.waiting_since)"
        " ORDER BY c.waiting_since LIMIT ?", (cutoff, limit))


async def mark_waiting_notified(conn: Connection, workspace_id: str, conversation_id: str, waiting_since: str) -> bool:
    """Claim the announcement of this wait; False when another run (or node) already did."""
    return await execute(
        conn, "UPDATE conversations SET waiting_notified = waiting_since WHERE workspace_id = ? AND id = ?"
              " AND status = 'waiting' AND waiting_since = ? AND (waiting_notified IS NULL"
              " OR waiting_notified != waiting_since)", (workspace_id, conversation_id, waiting_since)) > 0


async def webhook_summary(conn: Connection, workspace_id: str, conversation_id: str, last: int) -> dict:
    """The bot's name and the conversation's latest messages (oldest first), for a webhook payload."""
    name = await fetch_value(
        conn, "SELECT b.name FROM conversations c LEFT JOIN chatbots b ON b.id = c.chatbot_id"
              " WHERE c.workspace_id = ? AND c.id = ?", (workspace_id, conversation_id))
    rows = await fetch_all(
        conn, "SELECT id, role, content, author_name, created_at FROM messages WHERE workspace_id = ?"
              " AND conversation_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
        (workspace_id, conversation_id, last))
    return {"chatbot_name": name or "", "messages": rows[::-1]}
