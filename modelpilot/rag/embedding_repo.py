"""A workspace's embedding setting (workspace_embeddings) and its re-embedding state.

Owned by rag: search reads it on every question (one primary-key read beside the bot's own) to
know which model to embed the question with and whether vectors of two models sit side by side.
"""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_one, fetch_one_sync, run_on

COLUMNS = "mode, provider, model, identity, version, reembed_state, reembed_error, reembed_failures, updated_at"


async def get_setting(conn: Connection, workspace_id: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {COLUMNS} FROM workspace_embeddings WHERE workspace_id = ?",
                           (workspace_id,))


async def save_setting(conn: Connection, workspace_id: str, mode: str, provider: str | None, model: str | None,
                       identity: str | None, reembed_state: str | None, now: str) -> int:
    """Store the setting with a new version (returned); a re-embedding starts with no failures."""
    row = await fetch_one(
        conn,
        "INSERT INTO workspace_embeddings (workspace_id, mode, provider, model, identity, version, reembed_state,"
        " reembed_error, reembed_failures, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, NULL, 0, ?)"
        " ON CONFLICT (workspace_id) DO UPDATE SET mode = excluded.mode, provider = excluded.provider,"
        " model = excluded.model, identity = excluded.identity, version = workspace_embeddings.version + 1,"
        " reembed_state = excluded.reembed_state, reembed_error = NULL, reembed_failures = 0,"
        " updated_at = excluded.updated_at RETURNING version",
        (workspace_id, mode, provider, model, identity, reembed_state, now))
    return int(row["version"])


async def set_reembed_state(conn: Connection, workspace_id: str, version: int, state: str,
                            error: str | None, now: str) -> bool:
    """The re-embedding of this version of the setting is done or failed (False: superseded)."""
    return await execute(conn, "UPDATE workspace_embeddings SET reembed_state = ?, reembed_error = ?, updated_at = ?"
                               " WHERE workspace_id = ? AND version = ?",
                         (state, error, now, workspace_id, version)) > 0


async def count_failure(conn: Connection, workspace_id: str, version: int, error: str) -> int:
    """One more failed attempt of this version's re-embedding; returns how many in a row."""
    await execute(conn, "UPDATE workspace_embeddings SET reembed_failures = reembed_failures + 1, reembed_error = ?"
                        " WHERE workspace_id = ? AND version = ?", (error, workspace_id, version))
    row = await fetch_one(conn, "SELECT reembed_failures FROM workspace_embeddings WHERE workspace_id = ?"
                                " AND version = ?", (workspace_id, version))
    return int(row["reembed_failures"]) if row else 0


async def clear_failures(conn: Connection, workspace_id: str, version: int) -> None:
    await execute(conn, "UPDATE workspace_embeddings SET reembed_failures = 0, reembed_error = NULL"
                        " WHERE workspace_id = ? AND version = ? AND reembed_failures > 0", (workspace_id, version))


# Every search runs it: built once.
_NAMES = tuple(name.strip() for name in COLUMNS.split(","))
_SEARCH_SCOPE = ("SELECT EXISTS (SELECT 1 FROM chunks WHERE workspace_id = ? AND chatbot_id = ?) AS has_chunks, "
                 + ", ".join(f"e.{name}" for name in _NAMES)
                 + " FROM (SELECT 1 AS one) AS scope LEFT JOIN workspace_embeddings e ON e.workspace_id = ?")


def search_scope_sync(conn, workspace_id: str, chatbot_id: str) -> tuple[bool, dict | None]:
    """What a search reads first, in one statement: whether the bot has any knowledge (an index
    seek; a bot without must not pay for an embedding) and the workspace's embedding setting
    (None: the built-in model)."""
    row = fetch_one_sync(conn, _SEARCH_SCOPE, (workspace_id, chatbot_id, workspace_id))
    setting = None if row["mode"] is None else {name: row[name] for name in _NAMES}
    return bool(row["has_chunks"]), setting


async def search_scope(conn: Connection, workspace_id: str, chatbot_id: str) -> tuple[bool, dict | None]:
    return await run_on(conn, lambda sync: search_scope_sync(sync, workspace_id, chatbot_id))
