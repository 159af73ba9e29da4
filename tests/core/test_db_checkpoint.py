"""The server's SQLite log (WAL) is copied into the main file when no chat turn is starting, not
inside whichever commit makes it long (a chat's write waited behind that copy and its sync)."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager

from modelpilot.core.db import CHECKPOINT_CALM_SECONDS, SqliteDatabase

ROW = "x" * 4000  # about one page per row
PAGE = 4096


def run(coro):
    return asyncio.run(coro)


async def _opened(tmp_path) -> SqliteDatabase:
    db = SqliteDatabase(tmp_path / "t.db", readers=1)
    await db.open()
    await db.run_write(lambda conn: conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return db


@asynccontextmanager
async def _open(tmp_path, force_commits: int | None = None):
    """_opened, closed afterwards; force_commits: its checkpoint_force_commits."""
    db = await _opened(tmp_path)
    if force_commits is not None:
        db.checkpoint_force_commits = force_commits
    try:
        yield db
    finally:
        await db.close()


async def _insert(db: SqliteDatabase, rows: int) -> None:
    for _ in range(rows):
        await db.run_write(lambda conn: conn.execute("INSERT INTO t (v) VALUES (?)", (ROW,)))


def _main_file(db: SqliteDatabase) -> int:
    return os.path.getsize(db.path)


async def _grows_past(db: SqliteDatabase, size: int, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if _main_file(db) > size:
            return True
        await asyncio.sleep(0.05)
    return _main_file(db) > size


def test_writes_reach_the_main_file_once_no_turn_is_starting(tmp_path):
    # 200 pages: SQLite's own checkpoint waits for 1000, so before this the log only grew.
    async def scenario():
        async with _open(tmp_path) as db:
            before = _main_file(db)
            await _insert(db, 200)
            assert await _grows_past(db, before + 150 * PAGE, 5 * CHECKPOINT_CALM_SECONDS + 2)
            rows = await db.run_read(lambda conn: conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])
            assert rows == 200

    run(scenario())


def test_no_checkpoint_while_a_turn_is_starting_then_one_after(tmp_path):
    async def scenario():
        async with _open(tmp_path, force_commits=100_000) as db:
            before = _main_file(db)
            with db.foreground.hold():
                # 1,200 pages: past SQLite's automatic threshold, which copied them within a commit.
                await _insert(db, 1200)
                await asyncio.sleep(CHECKPOINT_CALM_SECONDS * 2)
                assert _main_file(db) < before + 100 * PAGE
            assert await _grows_past(db, before + 1000 * PAGE, 5 * CHECKPOINT_CALM_SECONDS + 2)

    run(scenario())


def test_a_log_that_keeps_growing_is_copied_even_if_turns_never_pause(tmp_path):
    async def scenario():
        async with _open(tmp_path, force_commits=50) as db:
            before = _main_file(db)
            with db.foreground.hold():
                await _insert(db, 60)
                assert await _grows_past(db, before + 40 * PAGE, 3)

    run(scenario())


def test_a_closed_database_is_one_file(tmp_path):
    async def scenario():
        db = await _opened(tmp_path)
        with db.foreground.hold():
            await _insert(db, 20)
            await db.close()
        wal = db.path.with_name(db.path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        assert _main_file(db) > 20 * PAGE

    run(scenario())


def test_writes_from_other_processes_survive_the_checkpoints(tmp_path):
    """The CLI (reset-password, migrate) writes to the server's file from other processes. With the
    checkpoints on a connection of their own, this sequence overwrote one table's page with
    another's (integrity_check said ok): the log's copy must go through the writer connection."""
    import subprocess
    import sys

    from modelpilot.core.db import connect_sync

    async def scenario():
        db = SqliteDatabase(tmp_path / "t.db", readers=1)
        await db.open()
        try:
            await db.run_write(lambda conn: conn.execute("CREATE TABLE t (v TEXT, e TEXT)"))
            await db.run_write(lambda conn: conn.execute("CREATE TABLE u (v TEXT)"))
            await asyncio.sleep(CHECKPOINT_CALM_SECONDS * 2)
            other = (f"import asyncio\nfrom modelpilot.core.db import SqliteDatabase\n"
                     f"async def main():\n    db = SqliteDatabase({str(db.path)!r}, readers=1)\n    await db.open()\n"
                     f"    await db.run_write(lambda c: c.execute(\"INSERT INTO t VALUES ('b1', 'later')\"))\n"
                     f"    await db.close()\nasyncio.run(main())\n")
            subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
            for _ in range(3):
                await db.run_write(lambda conn: conn.execute("INSERT INTO u VALUES ('x')"))
                await asyncio.sleep(0.2)
            await asyncio.sleep(CHECKPOINT_CALM_SECONDS * 2)
            plain = connect_sync(db.path)
            plain.execute("UPDATE t SET e = 'past'")
            plain.close()
            seen = await db.run_read(lambda conn: [tuple(row) for row in conn.execute("SELECT v, e FROM t")])
            assert seen == [("b1", "past")]
            assert await db.run_read(lambda conn: conn.execute("SELECT COUNT(*) FROM u").fetchone()[0]) == 3
        finally:
            await db.close()

    run(scenario())
