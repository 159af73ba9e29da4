"""A job worker that yields to chat (webhook deliveries) keeps one job in flight while people are
chatting on its node, and fills all its slots otherwise (scheduler/worker.py `slots_now`, core/
foreground.py `recent`). Why it matters: a POST already under way cannot step aside, so every
delivery in flight when a turn starts shares the event loop with that turn (bench/webhooks.py:
chat p95 under a burst 1.68x idle with four in flight, 0.82x with one, same run, same machine).
On the configured backend, with the real job table."""

from __future__ import annotations

import asyncio

import pytest

from modelpilot.core.database import open_database
from modelpilot.core.db import execute
from modelpilot.core.foreground import Foreground
from modelpilot.core.migrate import migrate_database
from modelpilot.scheduler import jobs
from modelpilot.scheduler.worker import JobWorker
from tests.support import make_settings

KIND = "test.slow"
JOBS = 8


@pytest.fixture
def settings(tmp_path):
    made = make_settings(tmp_path)
    migrate_database(made)
    return made


def keep_turns_beginning(foreground: Foreground, every: float) -> asyncio.Task:
    """A turn begins every `every` seconds, each done at once (its answer streaming), until cancelled."""
    async def chat() -> None:
        while True:
            with foreground.hold():
                await asyncio.sleep(0)
            await asyncio.sleep(every)
    return asyncio.ensure_future(chat())


async def _most_in_flight(settings, foreground: Foreground, chatting: bool) -> int:
    """Runs JOBS slow jobs on a four-slot worker; the most that ran at once."""
    db = open_database(settings, readers=1)
    await db.open()
    running, most, done = 0, 0, asyncio.Event()
    finished = 0

    async def slow(db, job):
        nonlocal running, most, finished
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        finished += 1
        if finished == JOBS:
            done.set()
        return None

    try:
        async with db.write() as conn:
            for ws in ("ws1", "ws2"):  # a workspace may hold all slots but one: two fill all four
                await execute(conn, "INSERT INTO workspaces (id, name, created_at, updated_at) VALUES (?, 'W', 't', 't')",
                              (ws,))
            for n in range(JOBS):
                await jobs.enqueue(conn, f"ws{n % 2 + 1}", KIND, f"ref{n}")
        worker = JobWorker(db, slots=4, node="n1", lease_seconds=30, yield_to=foreground)
        worker.defer_seconds = 0.2  # the jobs wait this long for a pause in the chats, then go one by one
        worker.register(KIND, slow)
        keep_chatting = None
        if chatting:
            keep_chatting = keep_turns_beginning(foreground, 0.1)
            await asyncio.sleep(0.01)
        await worker.start()
        try:
            await asyncio.wait_for(done.wait(), 30)
            while worker.running_job_ids:  # the last jobs' closing writes
                await asyncio.sleep(0.01)
        finally:
            await worker.stop()
            if keep_chatting is not None:
                keep_chatting.cancel()
    finally:
        await db.close()
    return most


def test_one_job_in_flight_while_people_chat(settings):
    assert asyncio.run(_most_in_flight(settings, Foreground(), chatting=True)) == 1


def test_every_slot_used_when_nobody_chats(settings):
    assert asyncio.run(_most_in_flight(settings, Foreground(), chatting=False)) == 4


def test_recent_counts_a_turn_that_has_already_begun_its_answer():
    foreground = Foreground()
    assert not foreground.recent(2.0)
    with foreground.hold():
        assert foreground.recent(0.0)
    assert foreground.recent(2.0) and not foreground.recent(0.0)


async def deferring_worker(db, foreground: Foreground, ran: list[str], ref: str) -> tuple[JobWorker, asyncio.Task]:
    """One job (ref) queued, a four-slot worker deferring by 60 s to turns that begin every 50 ms
    (already beginning when it starts); each job run appends its ref_id to `ran`."""
    async def note(db, job):
        ran.append(job["ref_id"])
        return None

    async with db.write() as conn:
        await execute(conn, "INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('ws1', 'W', 't', 't')")
        await jobs.enqueue(conn, "ws1", KIND, ref)
    worker = JobWorker(db, slots=4, node="n1", lease_seconds=30, yield_to=foreground)
    worker.defer_seconds = 60.0
    worker.register(KIND, note)
    chats = keep_turns_beginning(foreground, 0.05)
    await asyncio.sleep(0.01)
    await worker.start()
    return worker, chats


def test_jobs_wait_while_turns_keep_beginning_and_go_when_they_pause(settings):
    """A burst of deliveries goes out in the pauses between chats (DEFER_SECONDS at most late)."""
    async def main() -> tuple[int, int]:
        db = open_database(settings, readers=1)
        await db.open()
        foreground, ran = Foreground(), []
        try:
            worker, chats = await deferring_worker(db, foreground, ran, "ref")
            try:
                await asyncio.sleep(1.5)  # three times CALM_SECONDS, chats never pausing
                while_chatting = len(ran)
                chats.cancel()
                for _ in range(300):  # the pause: the worker looks again within CALM_SECONDS
                    if ran:
                        break
                    await asyncio.sleep(0.05)
            finally:
                await worker.stop()
        finally:
            await db.close()
        return while_chatting, len(ran)

    assert asyncio.run(main()) == (0, 1)


@pytest.mark.parametrize("ended", ["closing", "done"])
def test_a_job_that_reaches_its_closing_write_during_the_vanished_check_is_left_alone(settings, monkeypatch, ended):
    """The worker checks that running jobs still have their rows. A job that ends while that read is
    in flight deletes its own row: cancelling it then (in its closing write, which also claims the
    next jobs for this node) stranded those jobs as 'processing' forever (bench/webhooks: one of
    3,905 deliveries never sent); a job gone from the worker's books raised KeyError in its loop."""
    async def main() -> bool:
        db = open_database(settings, readers=1)
        await db.open()
        try:
            worker = JobWorker(db, slots=4, node="n1", lease_seconds=30)
            never = asyncio.Event()
            task = asyncio.ensure_future(never.wait())
            worker._running["j1"], worker._jobs["j1"] = task, {"id": "j1", "kind": KIND}

            async def holders(conn, job_ids):  # meanwhile the job reached its closing write (or ended)
                if ended == "closing":
                    worker._finishing.add("j1")
                else:
                    worker._running.pop("j1")
                    worker._jobs.pop("j1")
                return {}  # ... which deleted its row

            monkeypatch.setattr(jobs, "holders", holders)
            await worker._cancel_vanished()
            await asyncio.sleep(0)
            cancelled = task.cancelled()
            task.cancel()
            return cancelled
        finally:
            await db.close()

    assert asyncio.run(main()) is False


def test_a_deferring_worker_looks_without_writing_and_still_takes_overdue_jobs(settings):
    """While turns keep beginning, each one's queued delivery wakes the worker. It looks at most
    once per CALM_SECONDS, with a read: the claim is a write transaction (on Postgres under the
    fleet's write lock) that would queue beside the chats' own writes and find nothing past the
    cutoff. A job overdue by more than the deferral still goes out while the chats go on."""
    async def main() -> tuple[int, int, list[str]]:
        db = open_database(settings, readers=1)
        await db.open()
        foreground, ran, writes, reads = Foreground(), [], 0, 0
        plain_run_write, plain_run_read = db.run_write, db.run_read

        async def counted(fn):
            nonlocal writes
            writes += 1
            return await plain_run_write(fn)

        async def counted_read(fn):
            nonlocal reads
            reads += 1
            return await plain_run_read(fn)

        try:
            worker, chats = await deferring_worker(db, foreground, ran, "fresh")
            db.run_write, db.run_read = counted, counted_read
            try:
                for _ in range(20):  # a turn's queued delivery wakes the worker
                    worker.wake()
                    await asyncio.sleep(0.05)
                writes_while_nothing_due, looks = writes, reads
                async with db.write() as conn:
                    await execute(conn, "INSERT INTO jobs (id, workspace_id, kind, ref_id, payload, status, attempts,"
                                  " run_after, created_at, updated_at) VALUES ('old', 'ws1', ?, 'overdue', '{}',"
                                  " 'queued', 0, '2000-01-01T00:00:00.000Z', 't', 't')", (KIND,))
                worker.wake()
                for _ in range(100):
                    if ran:
                        break
                    await asyncio.sleep(0.05)
            finally:
                chats.cancel()
                await worker.stop()
        finally:
            await db.close()
        return writes_while_nothing_due, looks, ran

    writes, looks, ran = asyncio.run(main())
    # 20 wake-ups in one second: a look per CALM_SECONDS (0.5 s), not one per wake-up
    assert (writes, ran) == (0, ["overdue"]) and 1 <= looks <= 4
