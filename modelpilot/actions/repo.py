"""HTTP action rows. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.actions.entities import ACTION_FIELDS, Action
from modelpilot.core.db import Connection, execute, fetch_all, fetch_one

COLUMNS = ", ".join(ACTION_FIELDS)
JSON_FIELDS = ("parameters", "headers_sealed")
FLAGS = ("confirm", "verified_only", "enabled")


def _stored(values: dict) -> dict:
    stored = dict(values)
    for name in JSON_FIELDS:
        if name in stored:
            stored[name] = json.dumps(stored[name])
    if "body" in stored:
        stored["body"] = None if stored["body"] is None else json.dumps(stored["body"])
    for name in FLAGS:
        if name in stored:
            stored[name] = int(stored[name])
    return stored


async def insert_action(conn: Connection, workspace_id: str, values: dict) -> None:
    stored = _stored({**values, "workspace_id": workspace_id})
    await execute(conn, f"INSERT INTO actions ({COLUMNS}) VALUES ({','.join('?' * len(ACTION_FIELDS))})",
                  [stored[name] for name in ACTION_FIELDS])


async def get_action(conn: Connection, workspace_id: str, chatbot_id: str, action_id: str) -> Action | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM actions WHERE workspace_id = ? AND chatbot_id = ? AND id = ?",
                          (workspace_id, chatbot_id, action_id))
    return None if row is None else Action.from_row(row)


async def list_actions(conn: Connection, workspace_id: str, chatbot_id: str) -> list[Action]:
    rows = await fetch_all(conn, f"SELECT {COLUMNS} FROM actions WHERE workspace_id = ? AND chatbot_id = ?"
                                 " ORDER BY created_at, id", (workspace_id, chatbot_id))
    return [Action.from_row(row) for row in rows]


async def name_taken(conn: Connection, workspace_id: str, chatbot_id: str, name: str, except_id: str = "") -> bool:
    row = await fetch_one(conn, "SELECT id FROM actions WHERE workspace_id = ? AND chatbot_id = ? AND name = ?"
                                " AND id <> ?", (workspace_id, chatbot_id, name, except_id))
    return row is not None


async def update_action(conn: Connection, workspace_id: str, chatbot_id: str, action_id: str, changes: dict) -> None:
    stored = _stored(changes)
    assignments = ", ".join(f"{name} = ?" for name in stored)  # names come from the schema, not the client
    await execute(conn, f"UPDATE actions SET {assignments} WHERE workspace_id = ? AND chatbot_id = ? AND id = ?",
                  [*stored.values(), workspace_id, chatbot_id, action_id])


async def delete_action(conn: Connection, workspace_id: str, chatbot_id: str, action_id: str) -> bool:
    return await execute(conn, "DELETE FROM actions WHERE workspace_id = ? AND chatbot_id = ? AND id = ?",
                         (workspace_id, chatbot_id, action_id)) > 0


def all_sealed_headers_sync(conn) -> list[dict]:
    """Every action's sealed headers, for `modelpilot rotate-key` (instance-wide)."""
    rows = conn.execute("SELECT workspace_id, id, headers_sealed FROM actions WHERE headers_sealed <> '{}'").fetchall()
    return [{key: row[key] for key in row.keys()} for row in rows]


def set_sealed_headers_sync(conn, workspace_id: str, action_id: str, sealed: dict) -> None:
    conn.execute("UPDATE actions SET headers_sealed = ? WHERE workspace_id = ? AND id = ?",
                 (json.dumps(sealed), workspace_id, action_id))
