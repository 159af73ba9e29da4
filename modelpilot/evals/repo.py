"""Test sets and runs: SQL only. Every statement names its workspace."""

from __future__ import annotations

import json

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one
from modelpilot.evals.entities import EVAL_RUN_FIELDS, EVAL_SET_FIELDS, EvalRun, EvalSet

SET_COLUMNS = ", ".join(EVAL_SET_FIELDS)
RUN_COLUMNS = ", ".join(EVAL_RUN_FIELDS)
SUMMARY_COLUMNS = ", ".join(f if f != "results" else "'[]' AS results" for f in EVAL_RUN_FIELDS)


def _stored_set(values: dict) -> dict:
    stored = dict(values)
    if "cases" in stored:
        stored["cases"] = json.dumps(stored["cases"])
    if "auto_run" in stored:
        stored["auto_run"] = int(stored["auto_run"])
    return stored


async def insert_set(conn: Connection, workspace_id: str, values: dict) -> None:
    stored = _stored_set({**values, "workspace_id": workspace_id})
    await execute(conn, f"INSERT INTO eval_sets ({SET_COLUMNS}) VALUES ({','.join('?' * len(EVAL_SET_FIELDS))})",
                  [stored[name] for name in EVAL_SET_FIELDS])


async def get_set(conn: Connection, workspace_id: str, chatbot_id: str, set_id: str) -> EvalSet | None:
    row = await fetch_one(conn, f"SELECT {SET_COLUMNS} FROM eval_sets WHERE workspace_id = ? AND chatbot_id = ?"
                                " AND id = ?", (workspace_id, chatbot_id, set_id))
    return None if row is None else EvalSet.from_row(row)


async def set_page(conn: Connection, workspace_id: str, chatbot_id: str, after: tuple[str, str] | None,
                   limit: int) -> list[EvalSet]:
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    rows = await _newest_first(conn, f"SELECT {SET_COLUMNS} FROM eval_sets WHERE workspace_id = ? AND chatbot_id = ?",
                               [workspace_id, chatbot_id], after, limit)
    return [EvalSet.from_row(row) for row in rows]


async def _newest_first(conn: Connection, sql: str, params: list, after: tuple[str, str] | None,
                        limit: int) -> list[dict]:
    """One page of `sql`'s rows by (created_at, id) descending, after the cursor `after`."""
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params = [*params, after[0], after[0], after[1]]
    return await fetch_all(conn, sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))


async def update_set(conn: Connection, workspace_id: str, set_id: str, changes: dict) -> None:
    stored = _stored_set(changes)
    assignments = ", ".join(f"{name} = ?" for name in stored)  # names come from the service, not the client
    await execute(conn, f"UPDATE eval_sets SET {assignments} WHERE workspace_id = ? AND id = ?",
                  [*stored.values(), workspace_id, set_id])


async def delete_set(conn: Connection, workspace_id: str, set_id: str) -> None:
    await execute(conn, "DELETE FROM eval_sets WHERE workspace_id = ? AND id = ?", (workspace_id, set_id))


def auto_set_ids_sync(conn, workspace_id: str, chatbot_id: str) -> list[str]:
    """The bot's sets that run after every knowledge change (on a blocking connection)."""
    rows = conn.execute("SELECT id FROM eval_sets WHERE workspace_id = ? AND chatbot_id = ? AND auto_run = 1",
                        (workspace_id, chatbot_id)).fetchall()
    return [row[0] for row in rows]


async def insert_run(conn: Connection, workspace_id: str, values: dict) -> None:
    stored = {**values, "workspace_id": workspace_id, "results": json.dumps(values.get("results", []))}
    await execute(conn, f"INSERT INTO eval_runs ({RUN_COLUMNS}) VALUES ({','.join('?' * len(EVAL_RUN_FIELDS))})",
                  [stored[name] for name in EVAL_RUN_FIELDS])


async def get_run(conn: Connection, workspace_id: str, run_id: str) -> EvalRun | None:
    row = await fetch_one(conn, f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE workspace_id = ? AND id = ?",
                          (workspace_id, run_id))
    return None if row is None else EvalRun.from_row(row)


async def run_page(conn: Connection, workspace_id: str, set_id: str, after: tuple[str, str] | None, limit: int,
                   with_results: bool) -> list[EvalRun]:
    """A set's runs, newest first; without results, only the figures are read (the history chart)."""
    columns = RUN_COLUMNS if with_results else SUMMARY_COLUMNS
    rows = await _newest_first(conn, f"SELECT {columns} FROM eval_runs WHERE workspace_id = ? AND eval_set_id = ?",
                               [workspace_id, set_id], after, limit)
    return [EvalRun.from_row(row) for row in rows]


async def update_run(conn: Connection, workspace_id: str, run_id: str, changes: dict) -> int:
    stored = dict(changes)
    if "results" in stored:
        stored["results"] = json.dumps(stored["results"])
    assignments = ", ".join(f"{name} = ?" for name in stored)  # names come from the runner, not the client
    return await execute(conn, f"UPDATE eval_runs SET {assignments} WHERE workspace_id = ? AND id = ?",
                         [*stored.values(), workspace_id, run_id])


async def find_set(conn: Connection, workspace_id: str, set_id: str) -> EvalSet | None:
    """A set by id alone (a job names only the set; the workspace still scopes it)."""
    row = await fetch_one(conn, f"SELECT {SET_COLUMNS} FROM eval_sets WHERE workspace_id = ? AND id = ?",
                          (workspace_id, set_id))
    return None if row is None else EvalSet.from_row(row)


async def active_run(conn: Connection, workspace_id: str, set_id: str) -> EvalRun | None:
    """The set's run that is queued or running, if any."""
    row = await fetch_one(conn, f"SELECT {SUMMARY_COLUMNS} FROM eval_runs WHERE workspace_id = ? AND eval_set_id = ?"
                                " AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1",
                          (workspace_id, set_id))
    return None if row is None else EvalRun.from_row(row)
