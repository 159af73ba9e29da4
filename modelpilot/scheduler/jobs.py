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


# Fair claim: among due jobs, the workspace with the fewest running jobs goes first (oldest job
# first within a tie), a workspace never holds more than `per_workspace` slots, and one object
# never has two jobs running at once. So one tenant's backlog cannot hold back another's upload.
_CLAIM_SQL = f"""
WITH running AS (SELECT workspace_id, COUNT(*) AS n FROM jobs WHERE status = 'processing' GROUP BY workspace_id)
SELECT {", ".join("j." + c.strip() for c in JOB_COLUMNS.split(","))}
FROM jobs j LEFT JOIN running r ON r.workspace_id = j.workspace_id
WHERE j.status = 'queued' AND j.run_after <= ? AND COALESCE(r.n, 0) < ?
  AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.ref_id = j.ref_id AND p.workspace_id = j.workspace_id
                  AND p.status = 'processing')
ORDER BY COALESCE(r.n, 0), j.run_after, j.id LIMIT 1"""


async def claim_next(conn: Connection, per_workspace: int = 1_000_000) -> dict | None:
    """The next due job by the fair order above, marked processing. Call inside a write transaction."""
    row = await fetch_one(conn, _CLAIM_SQL, (utc_now_iso(), per_workspace))
    if row is None:
        return None
    await execute(conn, "UPDATE jobs SET status = 'processing', attempts = attempts + 1, updated_at = ?"
                        " WHERE id = ?", (utc_now_iso(), row["id"]))
    row["attempts"] += 1
    row["payload"] = json.loads(row["payload"])
    return row


async def existing(conn: Connection, job_ids: list[str]) -> set[str]:
    """Which of these jobs still have a row (deleting a document, bot or workspace deletes its jobs)."""
    if not job_ids:
        return set()
    marks = ",".join("?" * len(job_ids))
    return {row["id"] for row in await fetch_all(conn, f"SELECT id FROM jobs WHERE id IN ({marks})", job_ids)}


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


async def count_by_status(conn: Connection) -> dict[str, int]:
    """Jobs per status across the instance, for /metrics (finished jobs are deleted, so: queued,
    processing, error)."""
    rows = await fetch_all(conn, "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
    return {row["status"]: row["n"] for row in rows}
