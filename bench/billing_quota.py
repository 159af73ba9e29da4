"""What the quota check adds to every chat message, and what /billing's status costs.

reserve_message (then settle or release) runs before every answered message; it counts the period's usage events
(an index range scan on usage_events(workspace_id, created_at)). Measured on a fresh database
with a busy workspace (the period's usage near the Pro quota) among 200 other workspaces,
against a baseline of the cheapest read the app does (SELECT 1 through the reader pool).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import anyio

from _common import summary_ms, write_results
from modelpilot.app import TENANT_LOOKUPS
from modelpilot.billing import service
from modelpilot.core.db import SqliteDatabase, connect_sync
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.migrate import apply_migrations
from modelpilot.settings import load_settings

BUSY_EVENTS = 19_000  # near the default Pro quota of 20 000
OTHER_WORKSPACES, OTHER_EVENTS = 200, 500
ROUNDS = 2000


def seed(db_path: Path) -> str:
    apply_migrations(db_path)
    conn = connect_sync(db_path)
    now, busy = utc_now_iso(), new_id()
    workspaces = [busy] + [new_id() for _ in range(OTHER_WORKSPACES)]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO workspaces (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                     [(ws, ws, now, now) for ws in workspaces])
    conn.execute("INSERT INTO billing_accounts (workspace_id, manual_plan, updated_at) VALUES (?, 'pro', ?)",
                 (busy, now))
    rows = [(new_id(), busy, iso_from_epoch(time.time() - i)) for i in range(BUSY_EVENTS)]
    rows += [(new_id(), ws, iso_from_epoch(time.time() - i)) for ws in workspaces[1:] for i in range(OTHER_EVENTS)]
    conn.executemany("INSERT INTO usage_events (id, workspace_id, created_at) VALUES (?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return busy


async def timed(rounds: int, func) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await func()
        samples.append(time.perf_counter() - started)
    return samples


async def admit_one(db, settings, ws: str) -> None:
    hold = await service.reserve_message(db, settings, ws)
    await service.release_message(db, ws, hold)


async def measure(db_path: Path, busy: str) -> dict:
    settings = load_settings(env={}, overrides={"data_dir": str(db_path.parent)})
    db = SqliteDatabase(db_path, readers=2)
    await db.open()

    async def baseline() -> None:
        async with db.read() as conn:
            await conn.execute("SELECT 1")

    try:
        await timed(200, baseline)  # warm the caches
        base = await timed(ROUNDS, baseline)
        check = await timed(ROUNDS, lambda: admit_one(db, settings, busy))
        status = await timed(ROUNDS // 4, lambda: service.billing_status(db, settings, busy, TENANT_LOOKUPS.counters))
    finally:
        await db.close()
    return {"baseline_select_1": summary_ms(base), "reserve_and_release_message": summary_ms(check),
            "billing_status": summary_ms(status),
            "check_over_baseline_p50": round(summary_ms(check)["p50_ms"] / max(summary_ms(base)["p50_ms"], 1e-6), 1)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "modelpilot.db"
        busy = seed(db_path)
        results = anyio.run(measure, db_path, busy)
    results["setup"] = {"busy_workspace_events_this_period": BUSY_EVENTS,
                        "other_workspaces": OTHER_WORKSPACES, "events_each": OTHER_EVENTS, "rounds": ROUNDS}
    write_results("billing_quota", results)


if __name__ == "__main__":
    main()
