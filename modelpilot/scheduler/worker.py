"""The worker that drains the durable job table, one job at a time.

Handlers are registered by job kind. A handler raising RetryableError is retried with
exponential backoff up to MAX_ATTEMPTS; any other exception ends the job in error (the handler
is expected to have recorded a user-facing message on its object). Embedding is CPU-bound on a
small machine, so one job at a time is the fastest order, and keeps the API responsive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from modelpilot.core import metrics
from modelpilot.core.db import Database
from modelpilot.scheduler import jobs

log = logging.getLogger("modelpilot.worker")

# Brief on purpose: errors that retrying cannot fix fail at once (safe_http marks them), so only
# passing trouble (5xx, timeouts) gets here, and an editor waiting on a document wants the
# verdict in seconds, not after minutes of silent attempts.
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (3, 15)
POLL_SECONDS = 2.0

Handler = Callable[[Database, dict], Awaitable[None]]
FailureHook = Callable[[Database, dict, str], Awaitable[None]]


class RetryableError(Exception):
    """A transient failure (network hiccup, upstream 5xx): worth another try later."""


class JobWorker:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._handlers: dict[str, Handler] = {}
        self._on_give_up: dict[str, FailureHook] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.current_job_id: str | None = None
        self.backoff: tuple[float, ...] = BACKOFF_SECONDS  # tests shorten it

    def register(self, kind: str, handler: Handler, on_give_up: FailureHook | None = None) -> None:
        self._handlers[kind] = handler
        if on_give_up:
            self._on_give_up[kind] = on_give_up

    def wake(self) -> None:
        """Call after queueing a job so it starts at once instead of at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        async with self._db.write() as conn:
            resumed = await jobs.requeue_unfinished(conn)
        if resumed:
            log.info("resuming %d unfinished job(s)", resumed)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="job-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker loop error")
                worked = False
            if not worked:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                except asyncio.TimeoutError:
                    pass

    async def run_once(self) -> bool:
        """Run the next due job, if any; True when one ran."""
        async with self._db.write() as conn:
            job = await jobs.claim_next(conn)
        if job is None:
            return False
        self.current_job_id = job["id"]
        started = time.monotonic()
        try:
            outcome = await self._handle(job)
        finally:
            self.current_job_id = None
        metrics.record_job(job["kind"], outcome, time.monotonic() - started)
        return True

    async def _handle(self, job: dict) -> str:
        """Run one job; returns how it ended (ok, retry or failed) for the metrics."""
        handler = self._handlers.get(job["kind"])
        if handler is None:
            await self._give_up(job, f"no handler for job kind {job['kind']!r}")
            return "failed"
        try:
            await handler(self._db, job)
        except RetryableError as exc:
            if job["attempts"] >= MAX_ATTEMPTS:
                await self._give_up(job, str(exc))
                return "failed"
            delay = self.backoff[min(job["attempts"] - 1, len(self.backoff) - 1)]
            log.info("job %s will retry in %ss: %s", job["id"], delay, exc)
            async with self._db.write() as conn:
                await jobs.retry_later(conn, job["id"], delay, str(exc))
            return "retry"
        except asyncio.CancelledError:
            raise  # shutting down: the job stays 'processing' and is resumed at the next start
        except Exception as exc:
            log.exception("job %s (%s) failed", job["id"], job["kind"])
            await self._give_up(job, f"unexpected error: {type(exc).__name__}")
            return "failed"
        async with self._db.write() as conn:
            await jobs.finish(conn, job["id"])
        return "ok"

    async def _give_up(self, job: dict, message: str) -> None:
        hook = self._on_give_up.get(job["kind"])
        if hook is not None:
            await hook(self._db, job, message)
        async with self._db.write() as conn:
            await jobs.fail(conn, job["id"], message)
