"""Tool calls of chat turns and the calls waiting for a visitor's approval. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.core.db import Connection, fetch_all

TOOL_CALL_FIELDS = ("call_id", "type", "name", "arguments", "status", "latency_ms", "response_excerpt", "error")
_INSERT_CALL = ("INSERT INTO tool_calls (id, workspace_id, chatbot_id, conversation_id, message_id, position,"
                f" created_at, {', '.join(TOOL_CALL_FIELDS)}) VALUES ({','.join('?' * (7 + len(TOOL_CALL_FIELDS)))})")


def insert_tool_call_sync(conn, workspace_id: str, row: dict) -> None:
    values = {**row, "arguments": json.dumps(row["arguments"])}
    conn.execute(_INSERT_CALL, (row["id"], workspace_id, row["chatbot_id"], row["conversation_id"], row["message_id"],
                                row["position"], row["created_at"], *(values[name] for name in TOOL_CALL_FIELDS)))


def settle_tool_call_sync(conn, workspace_id: str, call_id: str, row: dict) -> None:
    """A call that waited for the visitor's approval, with what came of it."""
    conn.execute("UPDATE tool_calls SET status = ?, latency_ms = ?, response_excerpt = ?, error = ?"
                 " WHERE workspace_id = ? AND call_id = ? AND status = 'pending'",
                 (row["status"], row["latency_ms"], row["response_excerpt"], row["error"], workspace_id, call_id))


def insert_confirmation_sync(conn, workspace_id: str, row: dict) -> None:
    conn.execute("INSERT INTO tool_confirmations (call_id, workspace_id, chatbot_id, channel, session_id, state,"
                 " expires_at, created_at) VALUES (?,?,?,?,?,?,?,?)",
                 (row["call_id"], workspace_id, row["chatbot_id"], row["channel"], row["session_id"],
                  json.dumps(row["state"]), row["expires_at"], row["created_at"]))


def take_confirmation_sync(conn, workspace_id: str, chatbot_id: str, channel: str, session_id: str,
                           call_id: str) -> dict | None:
    """Removes and returns the waiting call (one taker wins a race); None when there is none."""
    row = conn.execute(
        "DELETE FROM tool_confirmations WHERE workspace_id = ? AND chatbot_id = ? AND channel = ?"
        " AND session_id = ? AND call_id = ? RETURNING state, expires_at",
        (workspace_id, chatbot_id, channel, session_id, call_id)).fetchone()
    if row is None:
        return None
    return {"state": json.loads(row["state"]), "expires_at": row["expires_at"]}


def drop_expired_confirmations_sync(conn, workspace_id: str, chatbot_id: str, before: str) -> None:
    conn.execute("DELETE FROM tool_confirmations WHERE workspace_id = ? AND chatbot_id = ? AND expires_at < ?",
                 (workspace_id, chatbot_id, before))


async def conversation_tool_calls(conn: Connection, workspace_id: str, conversation_id: str) -> dict[str, list[dict]]:
    """Each assistant message's calls, in the order they were made."""
    rows = await fetch_all(
        conn, f"SELECT message_id, {', '.join(TOOL_CALL_FIELDS)} FROM tool_calls WHERE workspace_id = ?"
              " AND conversation_id = ? ORDER BY created_at, position", (workspace_id, conversation_id))
    calls: dict[str, list[dict]] = {}
    for row in rows:
        message_id = row.pop("message_id")
        calls.setdefault(message_id, []).append({**row, "arguments": json.loads(row["arguments"])})
    return calls
