"""The durable job table: what the worker must do, survives restarts and crashes."""

from __future__ import annotations

import json
import time

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso

JOB_COLUMNS = "id, workspace_id, kind, ref_id, payload, status, attempts, run_after, last_error, created_at, updated_at"


async def enqueue(conn: Connection, workspace_id: str, kind: str, ref_id: str, payload: dict | None = None) -> str:
    """Queue a job; an unfinished job of the same kind for the same object is replaced, not doubled."""
    await execute(conn, "DELETE FROM jobs WHERE workspace_id = ? AND kind = ? AND ref_id = ? AND status = 'queued'",
                  (workspace_id, kind, ref_id))
    job_id, now = new_id(), utc_now_iso()
    await execute(conn, f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?,?,?,?,?,'queued',0,?,NULL,?,?)",
                  (job_id, workspace_id, kind, ref_id, json.dumps(payload or {}), now, now, now))
    return job_id


async def claim_next(conn: Connection) -> dict | None:
    """The oldest due job, marked processing. Call inside a write transaction."""
    row = await fetch_one(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'queued' AND run_after <= ?"
                                " ORDER BY run_after, id LIMIT 1", (utc_now_iso(),))
    if row is None:
        return None
    await execute(conn, "UPDATE jobs SET status = 'processing', attempts = attempts + 1, updated_at = ?"
                        " WHERE id = ?", (utc_now_iso(), row["id"]))
    row["attempts"] += 1
    row["payload"] = json.loads(row["payload"])
    return row


async def finish(conn: Connection, job_id: str) -> None:
    await execute(conn, "DELETE FROM jobs WHERE id = ?", (job_id,))


async def fail(conn: Connection, job_id: str, message: str) -> None:
    await execute(conn, "UPDATE jobs SET status = 'error', last_error = ?, updated_at = ? WHERE id = ?",
                  (message, utc_now_iso(), job_id))


async def retry_later(conn: Connection, job_id: str, delay_seconds: float, message: str) -> None:
    await execute(conn, "UPDATE jobs SET status = 'queued', run_after = ?, last_error = ?, updated_at = ? WHERE id = ?",
                  (iso_from_epoch(time.time() + delay_seconds), message, utc_now_iso(), job_id))


async def requeue_unfinished(conn: Connection) -> int:
    """After a crash or restart: every job left processing runs again."""
    return await execute(conn, "UPDATE jobs SET status = 'queued', updated_at = ? WHERE status = 'processing'",
                         (utc_now_iso(),))


async def exists(conn: Connection, job_id: str) -> bool:
    return await fetch_one(conn, "SELECT 1 AS x FROM jobs WHERE id = ?", (job_id,)) is not None


async def delete_for_ref(conn: Connection, workspace_id: str, ref_id: str) -> int:
    return await execute(conn, "DELETE FROM jobs WHERE workspace_id = ? AND ref_id = ?", (workspace_id, ref_id))


async def list_for_refs(conn: Connection, workspace_id: str, ref_ids: list[str]) -> list[dict]:
    if not ref_ids:
        return []
    marks = ",".join("?" * len(ref_ids))
    return await fetch_all(conn, f"SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = ? AND ref_id IN ({marks})",
                           [workspace_id, *ref_ids])


async def count_by_status(conn: Connection) -> dict[str, int]:
    """Jobs per status across the instance, for /metrics (finished jobs are deleted, so: queued,
    processing, error)."""
    rows = await fetch_all(conn, "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
    return {row["status"]: row["n"] for row in rows}
