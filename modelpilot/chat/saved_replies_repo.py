"""Saved replies: canned answers of a workspace's operators. Every query names its workspace."""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_value

COLUMNS = "id, title, text, created_at, updated_at"


async def list_replies(conn: Connection, workspace_id: str) -> list[dict]:
    return await fetch_all(conn, f"SELECT {COLUMNS} FROM saved_replies WHERE workspace_id = ? ORDER BY title, id",
                           (workspace_id,))


async def get_reply(conn: Connection, workspace_id: str, reply_id: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {COLUMNS} FROM saved_replies WHERE workspace_id = ? AND id = ?",
                           (workspace_id, reply_id))


async def count_replies(conn: Connection, workspace_id: str) -> int:
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM saved_replies WHERE workspace_id = ?", (workspace_id,)))


async def insert_reply(conn: Connection, workspace_id: str, row: dict) -> None:
    await execute(conn, "INSERT INTO saved_replies (id, workspace_id, title, text, created_at, updated_at)"
                        " VALUES (?,?,?,?,?,?)",
                  (row["id"], workspace_id, row["title"], row["text"], row["created_at"], row["created_at"]))


async def update_reply(conn: Connection, workspace_id: str, reply_id: str, changes: dict) -> None:
    assignments = ", ".join(f"{name} = ?" for name in changes)  # names come from the schema, not the client
    await execute(conn, f"UPDATE saved_replies SET {assignments} WHERE workspace_id = ? AND id = ?",
                  [*changes.values(), workspace_id, reply_id])


async def delete_reply(conn: Connection, workspace_id: str, reply_id: str) -> bool:
    return await execute(conn, "DELETE FROM saved_replies WHERE workspace_id = ? AND id = ?",
                         (workspace_id, reply_id)) > 0
