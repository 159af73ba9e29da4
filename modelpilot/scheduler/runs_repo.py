"""The last time slot each fleet-wide scheduled job ran in (table scheduled_runs)."""

from __future__ import annotations

from modelpilot.core.ids import utc_now_iso

# One statement, so two nodes firing at once cannot both win: the row moves on only to a later
# slot, and only the node whose statement moved it gets a row back.
_CLAIM_SLOT = """
INSERT INTO scheduled_runs (name, slot, node, ran_at) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET slot = excluded.slot, node = excluded.node, ran_at = excluded.ran_at
WHERE scheduled_runs.slot < excluded.slot
RETURNING name"""


def claim_slot_sync(conn, name: str, slot: int, node: str) -> bool:
    """True for exactly one caller per (name, slot) across every node: that one runs the job."""
    return conn.execute(_CLAIM_SLOT, (name, slot, node, utc_now_iso())).fetchone() is not None


def last_run_sync(conn, name: str) -> dict | None:
    row = conn.execute("SELECT name, slot, node, ran_at FROM scheduled_runs WHERE name = ?", (name,)).fetchone()
    return None if row is None else {key: row[key] for key in row.keys()}
