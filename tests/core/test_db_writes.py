"""Database.run_write: a whole write transaction in one hop to the writer's thread."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from modelpilot.core.db import SqliteDatabase


def run(coro):
    return asyncio.run(coro)


async def _opened(tmp_path) -> SqliteDatabase:
    db = SqliteDatabase(tmp_path / "t.db", readers=1)
    await db.open()
    await db._writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    return db


def test_a_transaction_is_one_hop_and_commits(tmp_path, monkeypatch):
    hops = []
    original = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    async def scenario():
        db = await _opened(tmp_path)
        try:
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)

            def insert_three(conn):
                for value in ("a", "b", "c"):
                    conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
                return conn.execute("SELECT COUNT(*) FROM t").fetchone()[0]

            count = await db.run_write(insert_three)
            write_hops = len(hops)
            values = await db.run_read(lambda conn: [r[0] for r in conn.execute("SELECT v FROM t ORDER BY id")])
            return count, write_hops, values
        finally:
            monkeypatch.undo()
            await db.close()

    count, write_hops, values = run(scenario())
    assert count == 3 and values == ["a", "b", "c"]
    assert write_hops == 1  # BEGIN, three INSERTs, SELECT and COMMIT: one trip to the thread


def test_an_error_rolls_the_whole_transaction_back(tmp_path):
    async def scenario():
        db = await _opened(tmp_path)
        try:
            def half_then_fail(conn):
                conn.execute("INSERT INTO t (v) VALUES ('kept?')")
                raise RuntimeError("boom")

            with pytest.raises(RuntimeError):
                await db.run_write(half_then_fail)
            async with db.read() as conn:
                rows = await conn.execute_fetchall("SELECT COUNT(*) FROM t")
            # The writer is usable again: the lock and the transaction were both released.
            await db.run_write(lambda conn: conn.execute("INSERT INTO t (v) VALUES ('after')"))
            async with db.read() as conn:
                after = await conn.execute_fetchall("SELECT v FROM t")
            return rows[0][0], [r[0] for r in after]
        finally:
            await db.close()

    assert run(scenario()) == (0, ["after"])
