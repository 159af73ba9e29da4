"""Webhook endpoints, deliveries and attempts. Every statement names its workspace.

Most functions are blocking (`*_sync`): the outbox insert joins other domains' transactions
(`run_write`, or `core.db.run_on` inside `db.write()`), and the delivery worker does each of
its steps in one hop.
"""

from __future__ import annotations

import json

from modelpilot.core.db import Connection, fetch_all, fetch_one

ENDPOINT_COLUMNS = ("id, workspace_id, url, description, events, enabled, failing_since, disabled_reason,"
                    " disabled_at, created_at, updated_at")
DELIVERY_COLUMNS = ("id, endpoint_id, message_id, event_type, status, attempts, next_attempt_at, last_attempt_at,"
                    " response_code, response_excerpt, duration_ms, last_error, created_at, updated_at")


def insert_endpoint_sync(conn, workspace_id: str, row: dict) -> None:
    conn.execute(
        "INSERT INTO webhook_endpoints (id, workspace_id, url, description, events, enabled, secret_sealed,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (row["id"], workspace_id, row["url"], row["description"], json.dumps(row["events"]), int(row["enabled"]),
         row["secret_sealed"], row["created_at"], row["created_at"]))


async def get_endpoint(conn: Connection, workspace_id: str, endpoint_id: str) -> dict | None:
    row = await fetch_one(conn, f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = ? AND id = ?",
                          (workspace_id, endpoint_id))
    return None if row is None else _endpoint_dict(row)


def _endpoint_dict(row: dict) -> dict:
    return {**row, "events": json.loads(row["events"]), "enabled": bool(row["enabled"])}


async def endpoint_page(conn: Connection, workspace_id: str, after: tuple[str, str] | None, limit: int) -> list[dict]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    sql, params = f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = ?", [workspace_id]
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [after[0], after[0], after[1]]
    rows = await fetch_all(conn, sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))
    return [_endpoint_dict(row) for row in rows]


def update_endpoint_sync(conn, workspace_id: str, endpoint_id: str, changes: dict) -> int:
    """Set the given columns (names come from the service, never from a client)."""
    if "events" in changes:
        changes = {**changes, "events": json.dumps(changes["events"])}
    if "enabled" in changes:
        changes = {**changes, "enabled": int(changes["enabled"])}
    assignments = ", ".join(f"{column} = ?" for column in changes)
    return conn.execute(f"UPDATE webhook_endpoints SET {assignments} WHERE workspace_id = ? AND id = ?",
                        (*changes.values(), workspace_id, endpoint_id)).rowcount


def delete_endpoint_sync(conn, workspace_id: str, endpoint_id: str) -> int:
    """Its deliveries and attempts go by cascade; their job rows find nothing and end."""
    return conn.execute("DELETE FROM webhook_endpoints WHERE workspace_id = ? AND id = ?",
                        (workspace_id, endpoint_id)).rowcount


def enabled_endpoints_sync(conn, workspace_id: str) -> list[dict]:
    rows = conn.execute("SELECT id, events FROM webhook_endpoints WHERE workspace_id = ? AND enabled = 1",
                        (workspace_id,)).fetchall()
    return [{"id": row["id"], "events": json.loads(row["events"])} for row in rows]


def insert_delivery_sync(conn, workspace_id: str, row: dict) -> None:
    conn.execute(
        "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, message_id, event_type, body, status,"
        " attempts, next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,?,'pending',0,?,?,?)",
        (row["id"], workspace_id, row["endpoint_id"], row["message_id"], row["event_type"], row["body"],
         row["created_at"], row["created_at"], row["created_at"]))


def delivery_to_send_sync(conn, workspace_id: str, delivery_id: str) -> dict | None:
    """A delivery with what sending it needs: body, and its endpoint's URL, secret and state."""
    row = conn.execute(
        "SELECT d.id, d.endpoint_id, d.message_id, d.event_type, d.body, d.status, d.attempts, e.url,"
        " e.secret_sealed, e.enabled, e.failing_since FROM webhook_deliveries d"
        " JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.workspace_id = d.workspace_id"
        " WHERE d.workspace_id = ? AND d.id = ?", (workspace_id, delivery_id)).fetchone()
    return None if row is None else {key: row[key] for key in row.keys()}


def record_attempt_sync(conn, workspace_id: str, delivery_id: str, attempt: dict, delivery: dict) -> None:
    """One attempt's row, and the delivery's state after it (status, counters, next retry)."""
    conn.execute(
        "INSERT INTO webhook_attempts (id, workspace_id, delivery_id, attempted_at, response_code, duration_ms,"
        " error) VALUES (?,?,?,?,?,?,?)",
        (attempt["id"], workspace_id, delivery_id, attempt["attempted_at"], attempt["response_code"],
         attempt["duration_ms"], attempt["error"]))
    conn.execute(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?,"
        " response_code = ?, response_excerpt = ?, duration_ms = ?, last_error = ?, updated_at = ?"
        " WHERE workspace_id = ? AND id = ?",
        (delivery["status"], delivery["attempts"], delivery["next_attempt_at"], attempt["attempted_at"],
         attempt["response_code"], delivery["response_excerpt"], attempt["duration_ms"], attempt["error"],
         attempt["attempted_at"], workspace_id, delivery_id))


def end_delivery_sync(conn, workspace_id: str, delivery_id: str, status: str, reason: str, now: str) -> None:
    conn.execute("UPDATE webhook_deliveries SET status = ?, next_attempt_at = NULL, last_error = ?, updated_at = ?"
                 " WHERE workspace_id = ? AND id = ?", (status, reason, now, workspace_id, delivery_id))


def requeue_delivery_sync(conn, workspace_id: str, endpoint_id: str, delivery_id: str, now: str) -> int:
    """Redeliver: pending again, from the first step of the retry schedule."""
    return conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?"
        " WHERE workspace_id = ? AND endpoint_id = ? AND id = ?",
        (now, now, workspace_id, endpoint_id, delivery_id)).rowcount


async def delivery_page(conn: Connection, workspace_id: str, endpoint_id: str, after: tuple[str, str] | None,
                        limit: int) -> list[dict]:
    sql = f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE workspace_id = ? AND endpoint_id = ?"
    params: list = [workspace_id, endpoint_id]
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [after[0], after[0], after[1]]
    return await fetch_all(conn, sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))


async def attempts_of(conn: Connection, workspace_id: str, delivery_ids: list[str]) -> list[dict]:
    if not delivery_ids:
        return []
    marks = ",".join("?" * len(delivery_ids))
    return await fetch_all(
        conn, "SELECT delivery_id, attempted_at, response_code, duration_ms, error FROM webhook_attempts"
              f" WHERE workspace_id = ? AND delivery_id IN ({marks}) ORDER BY attempted_at, id",
        (workspace_id, *delivery_ids))


def all_sealed_secrets_sync(conn) -> list[dict]:
    """Every endpoint's sealed secret, across workspaces: only `modelpilot rotate-key` asks."""
    rows = conn.execute("SELECT id, workspace_id, secret_sealed FROM webhook_endpoints").fetchall()
    return [{key: row[key] for key in row.keys()} for row in rows]


def prune_settled_sync(conn, before: str, limit: int) -> int:
    """Up to `limit` settled deliveries (delivered or given up) older than `before`, across every
    workspace (the housekeeping job visits them all); their attempts go by cascade."""
    return conn.execute(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
        " WHERE status <> 'pending' AND created_at < ? LIMIT ?)", (before, limit)).rowcount
