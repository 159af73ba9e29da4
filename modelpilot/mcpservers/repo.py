"""MCP servers. Every statement names its workspace (but the key rotation's scan).

Writes are blocking `*_sync` functions run inside `db.run_write`, so a name check and the write
it guards share one transaction.
"""

from __future__ import annotations

import json

from modelpilot.core.db import Connection, fetch_all, fetch_one
from modelpilot.mcpservers.entities import McpServer

COLUMNS = "id, workspace_id, name, url, header_names, headers_sealed, created_at, updated_at"


def insert_server_sync(conn, workspace_id: str, row: dict) -> None:
    conn.execute(
        "INSERT INTO mcp_servers (id, workspace_id, name, url, header_names, headers_sealed, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (row["id"], workspace_id, row["name"], row["url"], json.dumps(list(row["header_names"])),
         row["headers_sealed"], row["created_at"], row["created_at"]))


def name_taken_sync(conn, workspace_id: str, name: str, other_than: str = "") -> bool:
    row = conn.execute("SELECT id FROM mcp_servers WHERE workspace_id = ? AND name = ? AND id <> ?",
                       (workspace_id, name, other_than)).fetchone()
    return row is not None


def get_server_sync(conn, workspace_id: str, server_id: str) -> McpServer | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM mcp_servers WHERE workspace_id = ? AND id = ?",
                       (workspace_id, server_id)).fetchone()
    return None if row is None else McpServer.from_row(row)


async def get_server(conn: Connection, workspace_id: str, server_id: str) -> McpServer | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM mcp_servers WHERE workspace_id = ? AND id = ?",
                          (workspace_id, server_id))
    return None if row is None else McpServer.from_row(row)


async def servers_by_ids(conn: Connection, workspace_id: str, server_ids: list[str]) -> list[McpServer]:
    if not server_ids:
        return []
    marks = ",".join("?" * len(server_ids))
    rows = await fetch_all(conn, f"SELECT {COLUMNS} FROM mcp_servers WHERE workspace_id = ? AND id IN ({marks})",
                           (workspace_id, *server_ids))
    return [McpServer.from_row(row) for row in rows]


async def server_page(conn: Connection, workspace_id: str, after: tuple[str, str] | None,
                      limit: int) -> list[McpServer]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    sql, params = f"SELECT {COLUMNS} FROM mcp_servers WHERE workspace_id = ?", [workspace_id]
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [after[0], after[0], after[1]]
    rows = await fetch_all(conn, sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))
    return [McpServer.from_row(row) for row in rows]


UPDATABLE = ("name", "url", "header_names", "headers_sealed", "updated_at")


def update_server_sync(conn, workspace_id: str, server_id: str, changes: dict) -> int:
    """Set the given columns (names from UPDATABLE, chosen by the service, never by a client)."""
    if set(changes) - set(UPDATABLE):
        raise ValueError(f"not updatable: {sorted(set(changes) - set(UPDATABLE))}")
    if "header_names" in changes:
        changes = {**changes, "header_names": json.dumps(list(changes["header_names"]))}
    assignments = ", ".join(f"{column} = ?" for column in changes)
    return conn.execute(f"UPDATE mcp_servers SET {assignments} WHERE workspace_id = ? AND id = ?",
                        (*changes.values(), workspace_id, server_id)).rowcount


def delete_server_sync(conn, workspace_id: str, server_id: str) -> int:
    return conn.execute("DELETE FROM mcp_servers WHERE workspace_id = ? AND id = ?",
                        (workspace_id, server_id)).rowcount


def all_sealed_headers_sync(conn) -> list[dict]:
    """Every server's sealed headers, across workspaces: only `modelpilot rotate-key` asks."""
    rows = conn.execute("SELECT id, workspace_id, headers_sealed FROM mcp_servers"
                        " WHERE headers_sealed IS NOT NULL").fetchall()
    return [{key: row[key] for key in ("id", "workspace_id", "headers_sealed")} for row in rows]
