"""The worker that drains the durable job table: a few jobs at once, fairly across workspaces.

Handlers are registered by job kind, and a worker claims only the kinds registered with it, so
several workers share the one job table (ingestion, webhook deliveries) without taking each
other's jobs or slots. A handler raising RetryableError is retried with exponential backoff (or
after the error's own `retry_in`) up to its kind's max_attempts; any other exception ends the job
in error (the handler is expected to have recorded a user-facing message on its object).

`slots` jobs run at once (each ingestion parses in its own reader process and embeds in the
shared model's thread). A workspace may hold all slots but one, so another workspace always
finds one free however long the first one's files take. A job whose row disappears while it
runs, or whose object its kind's `wanted` check says is gone (a bot deleted with its documents
by cascade), is cancelled: its task stops at once and, in ingestion, the reader process parsing
its file is killed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from modelpilot.core import metrics
from modelpilot.core.db import Database
from modelpilot.core.foreground import Foreground
from modelpilot.core.ids import iso_from_epoch
from modelpilot.scheduler import jobs

log = logging.getLogger("modelpilot.worker")

# Brief on purpose: errors that retrying cannot fix fail at once (safe_http marks them), so only
# passing trouble (5xx, timeouts) gets here, and an editor waiting on a document wants the
# verdict in seconds, not after minutes of silent attempts.
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (3, 15)
POLL_SECONDS = 2.0
YIELD_SECONDS = 0.5  # longest a yielding worker's job waits for interactive work to pass
CHATTING_SECONDS = 2.0  # a yielding worker runs one job at a time this long after a turn began
# While turns keep beginning (one within CALM_SECONDS), a yielding worker starts only jobs that
# have waited DEFER_SECONDS past their time: a burst of deliveries goes out in the pauses between
# chats instead of beside their first bytes, and a node that never pauses still sends everything,
# DEFER_SECONDS late at most (deliveries are notifications; a person waits on a chat).
CALM_SECONDS = 0.5
DEFER_SECONDS = 10.0

Handler = Callable[[Database, dict], Awaitable["Settle | None"]]
FailureHook = Callable[[Database, dict, str], Awaitable[None]]
WantedCheck = Callable[[Database, dict], Awaitable[bool]]


class RetryableError(Exception):
    """A transient failure (network hiccup, upstream 5xx): worth another try later. `retry_in`
    (seconds) overrides the worker's backoff for a handler that keeps its own schedule."""

    def __init__(self, message: str = "", retry_in: float | None = None) -> None:
        super().__init__(message)
        self.retry_in = retry_in


@dataclass(frozen=True)
class Settle:
    """A handler's answer when its result is one more write: `write(conn)` (blocking, on the
    writer) records the result and returns None (the job is done) or the seconds until the next
    try (`retry_message` says why). The worker runs it in one transaction with the end of the
    job row and the claim of the next job for the freed slot: one writer hop per job, where a
    handler's own write, the job's end and the next claim were three."""

    write: Callable[[Any], float | None]
    retry_message: str = ""


class JobWorker:
    def __init__(self, db: Database, slots: int = 2, node: str = "node", lease_seconds: float = 60.0,
                 yield_to: Foreground | None = None) -> None:
        """yield_to: interactive work (core/foreground.py) this worker's jobs wait for, at most
        YIELD_SECONDS, before they start and before their closing write (background work
        that must not slow what people wait for: webhook deliveries)."""
        self._db = db
        self._yield_to = yield_to
        self.slots = max(1, slots)
        self.node = node
        self.lease_seconds = lease_seconds
        self._renewed_at = 0.0
        self._handlers: dict[str, Handler] = {}
        self._on_give_up: dict[str, FailureHook] = {}
        self._wanted: dict[str, WantedCheck] = {}
        self._max_attempts: dict[str, int] = {}
        self._jobs: dict[str, dict] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._running: dict[str, asyncio.Task] = {}
        self._finishing: set[str] = set()  # handler done: the worker itself ends the job row
        self.backoff: tuple[float, ...] = BACKOFF_SECONDS  # tests shorten it
        self.defer_seconds = DEFER_SECONDS  # and this
        self._found_nothing_at = float("-inf")  # monotonic time of the last look that found nothing overdue

    @property
    def slots_now(self) -> int:
        """The slots to fill now: one while people are chatting on this node (yield_to), so a turn
        that starts finds at most one job in flight beside it; all of them otherwise."""
        if self._yield_to is not None and self._yield_to.recent(CHATTING_SECONDS):
            return 1
        return self.slots

    def _due_by(self) -> str | None:
        """The claim's due cutoff: None (now) unless turns are beginning on this node."""
        if self._deferring():
            return iso_from_epoch(time.time() - self.defer_seconds)
        return None

    def _deferring(self) -> bool:
        return self._yield_to is not None and self._yield_to.recent(CALM_SECONDS)

    @property
    def per_workspace(self) -> int:
        return max(1, self.slots - 1)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    @property
    def running_job_ids(self) -> list[str]:
        return list(self._running)

    def register(self, kind: str, handler: Handler, on_give_up: FailureHook | None = None,
                 wanted: WantedCheck | None = None, max_attempts: int = MAX_ATTEMPTS) -> None:
        """wanted(db, job): False once the job's object is gone, so a running job can be cancelled.
        The worker claims only the kinds registered with it."""
        self._handlers[kind] = handler
        self._max_attempts[kind] = max_attempts
        if on_give_up:
            self._on_give_up[kind] = on_give_up
        if wanted:
            self._wanted[kind] = wanted

    def wake(self) -> None:
        """Call after queueing or deleting a job so the worker acts at once, not at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        async with self._db.write() as conn:
            # Alone on a SQLite file (the instance lock sees to it) every job left processing is
            # a dead run's; on a shared database another node may be running it.
            resumed = await jobs.requeue_unfinished(conn, only_expired=self._db.backend != "sqlite",
                                                    kinds=self.kinds)
        if resumed:
            log.info("resuming %d unfinished job(s)", resumed)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="job-worker")

    async def stop(self) -> None:
        """Stop claiming and cancel running jobs: they stay 'processing' and resume at the next start."""
        tasks = [t for t in (self._task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking, so a wake() during this round is not lost
            try:
                await self._renew_leases()
                await self._cancel_vanished()
                while len(self._running) < self.slots_now and await self._start_next():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker loop error")
            try:
                # while deferring, look again once the chats may have paused
                await asyncio.wait_for(self._wake.wait(), min(POLL_SECONDS, self.lease_seconds / 3,
                                                              CALM_SECONDS if self._deferring() else POLL_SECONDS))
            except asyncio.TimeoutError:
                pass

    async def _renew_leases(self) -> None:
        """The heartbeat: every third of the lease, extend it on every job this node runs."""
        if not self._running or time.monotonic() - self._renewed_at < self.lease_seconds / 3:
            return
        self._renewed_at = time.monotonic()
        ids = list(self._running)
        await self._db.run_write(lambda conn: jobs.renew_leases_sync(conn, self.node, ids, self.lease_seconds))

    async def _cancel_vanished(self) -> None:
        watched = [job_id for job_id in self._running if job_id not in self._finishing]
        if not watched:
            return
        async with self._db.read() as conn:
            present = await jobs.holders(conn, watched)
        for job_id in watched:
            if not self._still_watched(job_id):
                # It ended, or reached its closing write, while we read: a row gone now is its own
                # doing. Cancelling it in that write would strand the jobs the write just claimed
                # for this node ('processing' under our name, never run nor taken back).
                continue
            job = self._jobs[job_id]
            status, holder = present.get(job_id, (None, None))
            if status == "processing" and holder != self.node:
                # Our lease ran out (a stall longer than the lease) and another node took the job.
                log.warning("job %s was taken over by node %s; stopping this node's run", job_id, holder)
                self._running[job_id].cancel()
                continue
            check = self._wanted.get(job["kind"])
            if status is not None and (check is None or await check(self._db, job)):
                continue
            if not self._still_watched(job_id):  # the check took a moment
                continue
            log.info("job %s lost its object while running; cancelling it", job_id)
            self._running[job_id].cancel()
            if status is not None:  # its object went by cascade, the row stayed: nothing is left to do
                async with self._db.write() as conn:
                    await jobs.finish(conn, job_id)

    def _still_watched(self, job_id: str) -> bool:
        return job_id in self._running and job_id not in self._finishing

    async def _start_next(self) -> bool:
        """Fill the free slots in one write; False when nothing was due."""
        free = self.slots_now - len(self._running)
        if free <= 0:
            return False
        due_by = self._due_by()
        if due_by is not None:
            # Deferring, and every chat's queued delivery wakes us. A job becomes overdue only as
            # time passes (a new one is due now, not DEFER_SECONDS ago): after a look that found
            # nothing, the next is CALM_SECONDS later, and it is a read, without queueing the
            # claim's write beside the chats' own.
            if time.monotonic() - self._found_nothing_at < CALM_SECONDS:
                return False
            if not await self._db.run_read(lambda conn: jobs.any_due_sync(conn, self.node, self.kinds, due_by)):
                self._found_nothing_at = time.monotonic()
                return False
        claimed = await self._db.run_write(
            lambda conn: jobs.claim_sync(conn, self.node, self.lease_seconds, self.per_workspace, self.kinds, free,
                                         due_by))
        for job in claimed:
            self._launch(job)
        return len(claimed) == free

    def _launch(self, job: dict) -> None:
        task = asyncio.get_running_loop().create_task(self._timed(job), name=f"job-{job['id']}")
        self._running[job["id"]], self._jobs[job["id"]] = task, job
        task.add_done_callback(lambda _: self._done(job["id"]))

    def _done(self, job_id: str) -> None:
        self._running.pop(job_id, None)
        self._jobs.pop(job_id, None)
        self._finishing.discard(job_id)
        self._wake.set()  # a slot is free

    async def _timed(self, job: dict) -> None:
        started = time.monotonic()
        try:
            outcome = await self._handle(job)
        except asyncio.CancelledError:
            metrics.record_job(job["kind"], "cancelled", time.monotonic() - started)
            raise
        metrics.record_job(job["kind"], outcome, time.monotonic() - started)

    async def _handle(self, job: dict) -> str:
        """Run one job; returns how it ended (ok, retry or failed) for the metrics."""
        handler = self._handlers.get(job["kind"])
        await self._step_aside()
        if handler is None:
            self._finishing.add(job["id"])
            await self._give_up(job, f"no handler for job kind {job['kind']!r}")
            return "failed"
        try:
            settle = await handler(self._db, job)
        except RetryableError as exc:
            self._finishing.add(job["id"])
            if job["attempts"] >= self._max_attempts.get(job["kind"], MAX_ATTEMPTS):
                await self._give_up(job, str(exc))
                return "failed"
            delay = exc.retry_in if exc.retry_in is not None else \
                self.backoff[min(job["attempts"] - 1, len(self.backoff) - 1)]
            log.info("job %s will retry in %ss: %s", job["id"], delay, exc)
            async with self._db.write() as conn:
                await jobs.retry_later(conn, job["id"], delay, str(exc))
            return "retry"
        except asyncio.CancelledError:
            raise  # shutting down or deleted: a job still in the table is resumed at the next start
        except Exception as exc:
            self._finishing.add(job["id"])
            log.exception("job %s (%s) failed", job["id"], job["kind"])
            await self._give_up(job, f"unexpected error: {type(exc).__name__}")
            return "failed"
        self._finishing.add(job["id"])
        if isinstance(settle, Settle):
            return await self._settle(job, settle)
        async with self._db.write() as conn:
            await jobs.finish(conn, job["id"])
        return "ok"

    async def _settle(self, job: dict, settle: Settle) -> str:
        """The handler's write, the job row's end (or its next try) and the next claim: one hop."""
        cap = self._max_attempts.get(job["kind"], MAX_ATTEMPTS)

        def write(conn: Any) -> tuple[float | None, list[dict]]:
            delay = settle.write(conn)
            if delay is None:
                jobs.finish_sync(conn, job["id"])
            elif job["attempts"] < cap:
                jobs.retry_later_sync(conn, job["id"], delay, settle.retry_message)
            else:
                return delay, []  # past the backstop: given up below, in the usual way
            return delay, jobs.claim_sync(conn, self.node, self.lease_seconds, self.per_workspace, self.kinds,
                                          1 if self._task is not None and len(self._running) <= self.slots_now else 0,
                                          due_by)

        await self._step_aside()
        due_by = self._due_by()  # after stepping aside: chats may have begun or paused meanwhile
        delay, claimed = await self._db.run_write(write)
        for following in claimed:
            self._launch(following)
        if delay is None:
            return "ok"
        if job["attempts"] >= cap:
            await self._give_up(job, settle.retry_message)
            return "failed"
        log.info("job %s will retry in %ss: %s", job["id"], delay, settle.retry_message)
        return "retry"

    async def _step_aside(self) -> None:
        if self._yield_to is not None:
            await self._yield_to.quiet(YIELD_SECONDS)

    async def _give_up(self, job: dict, message: str) -> None:
        hook = self._on_give_up.get(job["kind"])
        if hook is not None:
            await hook(self._db, job, message)
        async with self._db.write() as conn:
            await jobs.fail(conn, job["id"], message)
