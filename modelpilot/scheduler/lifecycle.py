"""The in-process scheduler (APScheduler, asyncio): started and stopped with the app.

Other domains add periodic work through app.state["scheduler"].add_interval_job(...); the
durable ingestion queue runs beside it (scheduler/worker.py).
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("modelpilot.scheduler")


class Scheduler:
    def __init__(self) -> None:
        self._aps = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._aps.running

    def add_interval_job(self, job_id: str, async_func: Callable[[], Awaitable[None]], seconds: float) -> None:
        """Run async_func every `seconds` (one run at a time; a missed run is merged, not queued)."""
        async def run() -> None:
            try:
                await async_func()
            except Exception:
                log.exception("scheduled job %s failed", job_id)

        self._aps.add_job(run, "interval", seconds=seconds, id=job_id, replace_existing=True,
                          max_instances=1, coalesce=True, misfire_grace_time=max(1, int(seconds)))

    def remove_job(self, job_id: str) -> None:
        self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]
