"""The audit log: one row per security-relevant action, written in the action's transaction."""

from __future__ import annotations

import json
from typing import Any

from modelpilot.core.db import Connection, execute, fetch_all
from modelpilot.core.ids import new_id, utc_now_iso


async def record(
    conn: Connection,
    workspace_id: str | None,
    action: str,
    *,
    actor_user_id: str | None = None,
    actor_token_id: str | None = None,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    await execute(
        conn,
        "INSERT INTO audit_log (id, workspace_id, actor_user_id, actor_token_id, action, target_type,"
        " target_id, details, ip, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (new_id(), workspace_id, actor_user_id, actor_token_id, action, target_type, target_id,
         json.dumps(details or {}), ip, utc_now_iso()),
    )


async def list_entries(conn: Connection, workspace_id: str, limit: int = 100, before: str | None = None) -> list[dict]:
    rows = await fetch_all(
        conn,
        "SELECT id, actor_user_id, actor_token_id, action, target_type, target_id, details, ip, created_at"
        " FROM audit_log WHERE workspace_id = ? AND (CAST(? AS TEXT) IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
        (workspace_id, before, before, limit),
    )
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows
