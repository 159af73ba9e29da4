"""The durable job table: what the worker must do, survives restarts and crashes."""

from __future__ import annotations

import json
import time

from modelpilot.core.db import Connection, dialect, execute, fetch_all, fetch_one
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso

JOB_COLUMNS = "id, workspace_id, kind, ref_id, payload, status, attempts, run_after, last_error, created_at, updated_at"


def enqueue_sync(conn, workspace_id: str, kind: str, ref_id: str, payload: dict | None = None,
                 delay_seconds: float = 0.0) -> str:
    """enqueue() on a blocking connection (inside a caller's run_write transaction): the outbox
    form, so a job is queued in the same transaction as the change that asks for it."""
    conn.execute("DELETE FROM jobs WHERE workspace_id = ? AND kind = ? AND ref_id = ? AND status = 'queued'",
                 (workspace_id, kind, ref_id))
    job_id, now = new_id(), utc_now_iso()
    run_after = iso_from_epoch(time.time() + delay_seconds) if delay_seconds > 0 else now
    conn.execute(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?,?,?,?,?,'queued',0,?,NULL,?,?)",
                 (job_id, workspace_id, kind, ref_id, json.dumps(payload or {}), run_after, now, now))
    return job_id


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
# "Running" means processing under a live lease: a job whose node stopped renewing its lease
# (the node died) is due again, for any other node. The claimer's own expired jobs are not taken
# back: it still runs them, and its next renewal says so.
# Each worker claims only the kinds it has handlers for ({kinds} is filled per call), and counts
# only those kinds as running: webhook deliveries and ingestion run in separate workers and never
# take each other's slots.
_CLAIM_SQL = f"""
WITH running AS (SELECT workspace_id, COUNT(*) AS n FROM jobs WHERE status = 'processing' AND lease_until > ?
                 AND kind IN ({{kinds}}) GROUP BY workspace_id)
SELECT {", ".join("j." + c.strip() for c in JOB_COLUMNS.split(","))}
FROM jobs j LEFT JOIN running r ON r.workspace_id = j.workspace_id
WHERE ((j.status = 'queued' AND j.run_after <= ?)
       OR (j.status = 'processing' AND (j.lease_until IS NULL OR j.lease_until <= ?)
           AND (j.claimed_by IS NULL OR j.claimed_by <> ?)))
  AND j.kind IN ({{kinds}})
  AND COALESCE(r.n, 0) < ?
  AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.ref_id = j.ref_id AND p.workspace_id = j.workspace_id
                  AND p.id <> j.id AND p.status = 'processing' AND p.lease_until > ?)
ORDER BY COALESCE(r.n, 0), j.run_after, j.id LIMIT 1"""
# Writes already queue behind the fleet's write lock, so no other claimer can hold the row; the
# row lock still keeps a claim from waiting on (or taking) a row some other statement has locked.
_CLAIM = {"sqlite": _CLAIM_SQL, "postgres": _CLAIM_SQL + " FOR UPDATE OF j SKIP LOCKED"}


def claim_next_sync(conn, node: str, lease_seconds: float, per_workspace: int = 1_000_000,
                    kinds: tuple[str, ...] = (), due_by: str | None = None) -> dict | None:
    """The next due job of one of `kinds` by the fair order above, marked processing under
    `node`'s lease: the whole claim in one write transaction (run it with db.run_write).
    `due_by` (ISO time, default now): only queued jobs due by then count as due."""
    if not kinds:
        return None
    now = utc_now_iso()
    marks = ",".join("?" * len(kinds))
    sql = _CLAIM[dialect(conn)].replace("{kinds}", marks)
    row = conn.execute(sql, (now, *kinds, due_by or now, now, node, *kinds, per_workspace, now)).fetchone()
    if row is None:
        return None
    job = {key: row[key] for key in row.keys()}
    conn.execute("UPDATE jobs SET status = 'processing', attempts = attempts + 1, lease_until = ?, claimed_by = ?,"
                 " updated_at = ? WHERE id = ?", (_lease_end(lease_seconds), node, now, job["id"]))
    job["attempts"] += 1
    job["payload"] = json.loads(job["payload"])
    return job


def any_due_sync(conn, node: str, kinds: tuple[str, ...], due_by: str) -> bool:
    """Whether a claim with this cutoff could find anything (a read, on any connection): the
    jobs_due index answers it, where the fair claim ranks every due row under the write lock."""
    if not kinds:
        return False
    marks = ",".join("?" * len(kinds))
    now = utc_now_iso()
    row = conn.execute(
        f"SELECT 1 FROM jobs WHERE kind IN ({marks}) AND ((status = 'queued' AND run_after <= ?)"
        f" OR (status = 'processing' AND (lease_until IS NULL OR lease_until <= ?)"
        f" AND (claimed_by IS NULL OR claimed_by <> ?))) LIMIT 1", (*kinds, due_by, now, node)).fetchone()
    return row is not None


def claim_sync(conn, node: str, lease_seconds: float, per_workspace: int, kinds: tuple[str, ...],
               limit: int, due_by: str | None = None) -> list[dict]:
    """Up to `limit` jobs by the same fair order, one after another in the caller's transaction
    (each claim counts the ones before it as running): a worker with several free slots fills
    them in one write."""
    claimed: list[dict] = []
    while len(claimed) < limit:
        job = claim_next_sync(conn, node, lease_seconds, per_workspace, kinds, due_by)
        if job is None:
            break
        claimed.append(job)
    return claimed


def finish_sync(conn, job_id: str) -> None:
    conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))


def retry_later_sync(conn, job_id: str, delay_seconds: float, message: str) -> None:
    conn.execute("UPDATE jobs SET status = 'queued', run_after = ?, last_error = ?, updated_at = ? WHERE id = ?",
                 (iso_from_epoch(time.time() + delay_seconds), message, utc_now_iso(), job_id))


def _lease_end(lease_seconds: float) -> str:
    return iso_from_epoch(time.time() + lease_seconds)


def renew_leases_sync(conn, node: str, job_ids: list[str], lease_seconds: float) -> set[str]:
    """Extend `node`'s lease on these jobs; returns the ones it still holds."""
    if not job_ids:
        return set()
    marks = ",".join("?" * len(job_ids))
    rows = conn.execute(f"UPDATE jobs SET lease_until = ? WHERE claimed_by = ? AND status = 'processing'"
                        f" AND id IN ({marks}) RETURNING id", (_lease_end(lease_seconds), node, *job_ids)).fetchall()
    return {row[0] for row in rows}


async def holders(conn: Connection, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """{job id: (status, node holding it)} for those of these jobs that still have a row."""
    if not job_ids:
        return {}
    marks = ",".join("?" * len(job_ids))
    rows = await fetch_all(conn, f"SELECT id, status, claimed_by FROM jobs WHERE id IN ({marks})", job_ids)
    return {row["id"]: (row["status"], row["claimed_by"]) for row in rows}


async def finish(conn: Connection, job_id: str) -> None:
    await execute(conn, "DELETE FROM jobs WHERE id = ?", (job_id,))


async def fail(conn: Connection, job_id: str, message: str) -> None:
    await execute(conn, "UPDATE jobs SET status = 'error', last_error = ?, updated_at = ? WHERE id = ?",
                  (message, utc_now_iso(), job_id))


async def retry_later(conn: Connection, job_id: str, delay_seconds: float, message: str) -> None:
    await execute(conn, "UPDATE jobs SET status = 'queued', run_after = ?, last_error = ?, updated_at = ? WHERE id = ?",
                  (iso_from_epoch(time.time() + delay_seconds), message, utc_now_iso(), job_id))


async def requeue_unfinished(conn: Connection, only_expired: bool, kinds: tuple[str, ...] = ()) -> int:
    """At start-up: jobs of these kinds left processing by a run that died run again. Alone on
    the database (SQLite) every such job is a dead run's; in a fleet only those whose lease has
    expired are (another node is running the others). Each worker asks for its own kinds only, so
    a worker starting later never takes back what an earlier one already claimed."""
    if not kinds:
        return 0
    now, marks = utc_now_iso(), ",".join("?" * len(kinds))
    if only_expired:
        return await execute(conn, "UPDATE jobs SET status = 'queued', claimed_by = NULL, updated_at = ?"
                                   " WHERE status = 'processing' AND (lease_until IS NULL OR lease_until <= ?)"
                                   f" AND kind IN ({marks})", (now, now, *kinds))
    return await execute(conn, "UPDATE jobs SET status = 'queued', claimed_by = NULL, updated_at = ?"
                               f" WHERE status = 'processing' AND kind IN ({marks})", (now, *kinds))


async def exists(conn: Connection, job_id: str) -> bool:
    return await fetch_one(conn, "SELECT 1 AS x FROM jobs WHERE id = ?", (job_id,)) is not None


async def delete_for_ref(conn: Connection, workspace_id: str, ref_id: str) -> int:
    return await execute(conn, "DELETE FROM jobs WHERE workspace_id = ? AND ref_id = ?", (workspace_id, ref_id))


async def count_by_status(conn: Connection) -> dict[str, int]:
    """Jobs per status across the instance, for /metrics (finished jobs are deleted, so: queued,
    processing, error)."""
    rows = await fetch_all(conn, "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


async def unfinished_count(conn: Connection, workspace_id: str, kind: str) -> int:
    """Jobs of a kind in a workspace still to run or running (failed ones excluded)."""
    row = await fetch_one(conn, "SELECT count(*) AS n FROM jobs WHERE workspace_id = ? AND kind = ?"
                                " AND status IN ('queued', 'processing')", (workspace_id, kind))
    return int(row["n"]) if row else 0
