"""The in-process scheduler (APScheduler, asyncio): started and stopped with the app.

Other domains add periodic work through app.state["scheduler"].add_interval_job(...); the
durable ingestion queue runs beside it (scheduler/worker.py).

Work on the shared data (re-crawl checks, retention) is `once_per_fleet`: its runs fall on fixed
time slots (multiples of its interval since the epoch) on every node, and the node that moves the
job's row in scheduled_runs to the slot runs it; the others, and a node started later in the same
slot, skip it. A node dying mid-run loses that slot's run; the next slot does the work.
Per-process chores (stopping idle reader processes) run on every node.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from modelpilot.core.db import Database
from modelpilot.scheduler import runs_repo

log = logging.getLogger("modelpilot.scheduler")


class Scheduler:
    def __init__(self, db: Database | None = None, node: str = "") -> None:
        self._aps = AsyncIOScheduler(timezone="UTC")
        self._db = db
        self.node = node
        self.last_slot: dict[str, int] = {}  # job id -> the latest slot this node won

    def start(self) -> None:
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._aps.running

    def add_interval_job(self, job_id: str, async_func: Callable[[], Awaitable[None]], seconds: float,
                         once_per_fleet: bool = False) -> None:
        """Run async_func every `seconds` (one run at a time; a missed run is merged, not queued);
        once_per_fleet: in each time slot on one node only (see the module note)."""
        fleet = once_per_fleet and self._db is not None

        async def run() -> None:
            try:
                if fleet and not await self._claim_slot(job_id, seconds):
                    return
                await async_func()
            except Exception:
                log.exception("scheduled job %s failed", job_id)

        # Slot-aligned start: every node fires at the same instants, so a slot's owner is decided
        # by the database at that instant, not by which node happened to start first.
        start = datetime.fromtimestamp((int(time.time() // seconds) * seconds), timezone.utc) if fleet else None
        self._aps.add_job(run, "interval", seconds=seconds, id=job_id, replace_existing=True, start_date=start,
                          max_instances=1, coalesce=True, misfire_grace_time=max(1, int(seconds)))

    async def _claim_slot(self, job_id: str, seconds: float) -> bool:
        # Rounded, not floored: a fire a few milliseconds early still names its own slot.
        slot = round(time.time() / seconds)
        assert self._db is not None
        won = await self._db.run_write(lambda conn: runs_repo.claim_slot_sync(conn, job_id, slot, self.node))
        if won:
            self.last_slot[job_id] = slot
        return won

    def remove_job(self, job_id: str) -> None:
        self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]
