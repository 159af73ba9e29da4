"""core/pg.py against a real Postgres, whatever MP_TEST_BACKEND says: the SQLite-style SQL the
repos write, rows, types, transactions, errors, and writes serialised across two "nodes"."""

from __future__ import annotations

import asyncio
import threading

import pytest
import sqlean

from modelpilot.core.db import IntegrityError, dialect, transaction_sync
from modelpilot.core.pg import WRITE_LOCK_KEY, PostgresDatabase, connect_sync, translate
from tests.pg_support import drop_database, fresh_database


@pytest.fixture
def url():
    made = fresh_database(migrated=False)
    conn = connect_sync(made)
    conn.execute("CREATE TABLE items (id TEXT PRIMARY KEY, label TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0)")
    conn.close()
    yield made
    drop_database(made)


def on_database(url: str, scenario) -> object:
    """Runs `await scenario(db)` on an opened PostgresDatabase at url."""
    async def run():
        database = PostgresDatabase(url, readers=2, writers=2)
        await database.open()
        try:
            return await scenario(database)
        finally:
            await database.close()
    return asyncio.run(run())


def test_placeholders_become_psycopg_ones_and_quoted_text_keeps_its_question_marks():
    assert translate("SELECT ? WHERE a = ? AND b LIKE '%?' -- why?") == "SELECT %s WHERE a = %s AND b LIKE '%%?' -- why?"
    assert translate('SELECT "odd?col" FROM t WHERE x = ?') == 'SELECT "odd?col" FROM t WHERE x = %s'


def test_quoted_question_marks_and_percents_reach_the_server_untouched(url):
    conn = connect_sync(url)
    try:
        row = conn.execute("SELECT '?', '50%', 'it''s ?', ? || '%'", ("a",)).fetchone()
        assert tuple(row) == ("?", "50%", "it's ?", "a%")
        conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("1", "100% sure?"))
        found = conn.execute("SELECT id FROM items WHERE label LIKE '%sure?'").fetchall()
        assert [r["id"] for r in found] == ["1"]
    finally:
        conn.close()


def test_rows_read_by_index_and_by_name_and_sums_are_ints(url):
    on_database(url, _rows_read_by_index_and_by_name_and_sums_are_ints)


async def _rows_read_by_index_and_by_name_and_sums_are_ints(db):
    async with db.write() as conn:
        await conn.executemany("INSERT INTO items (id, label, n) VALUES (?, ?, ?)", [("a", "x", 2), ("b", "y", 3)])
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT id, label, n FROM items ORDER BY id")
        total = await (await conn.execute("SELECT SUM(n) AS total, AVG(n) AS mean FROM items")).fetchone()
        assert dialect(conn) == "postgres"
    assert rows[0][0] == "a" and rows[0]["label"] == "x" and rows[1]["n"] == 3
    assert rows[0].keys() == ["id", "label", "n"] and dict(zip(rows[0].keys(), rows[0])) == {"id": "a", "label": "x", "n": 2}
    assert total["total"] == 5 and type(total["total"]) is int
    assert total["mean"] == 2.5 and type(total["mean"]) is float


def test_a_failing_write_rolls_back(url):
    on_database(url, _a_failing_write_rolls_back)


async def _a_failing_write_rolls_back(db):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("a", "x"))
            raise RuntimeError("boom")

    def failing(conn):
        conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("b", "y"))
        raise ValueError("boom")

    with pytest.raises(ValueError):
        await db.run_write(failing)
    async with db.read() as conn:
        assert await conn.execute_fetchall("SELECT id FROM items") == []
    # The connections are usable afterwards (not left inside an aborted transaction).
    async with db.write() as conn:
        await conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("c", "z"))
    async with db.read() as conn:
        assert [r["id"] for r in await conn.execute_fetchall("SELECT id FROM items")] == ["c"]


def test_a_duplicate_key_raises_the_integrity_error_the_code_catches(url):
    on_database(url, _a_duplicate_key_raises_the_integrity_error_the_code_catches)


async def _a_duplicate_key_raises_the_integrity_error_the_code_catches(db):
    assert IntegrityError is sqlean.IntegrityError
    async with db.write() as conn:
        await conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("a", "x"))
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("a", "again"))

    def insert_many(conn):
        conn.executemany("INSERT INTO items (id, label) VALUES (?, ?)", [("b", "1"), ("a", "2")])

    with pytest.raises(IntegrityError):
        await db.run_write(insert_many)
    async with db.read() as conn:
        assert [r["id"] for r in await conn.execute_fetchall("SELECT id FROM items")] == ["a"]


def test_run_write_is_one_transaction(url):
    on_database(url, lambda db: _run_write_is_one_transaction(db, url))


async def _run_write_is_one_transaction(db, url):
    seen_outside: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def two_rows(conn):
        conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("a", "x"))
        inside.set()
        release.wait(10)
        conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("b", "y"))
        return "done"

    task = asyncio.create_task(db.run_write(two_rows))
    assert await asyncio.to_thread(inside.wait, 10)
    other = connect_sync(url)
    try:
        seen_outside.append(other.execute("SELECT COUNT(*) FROM items").fetchone()[0])
    finally:
        other.close()
    release.set()
    assert await task == "done"
    async with db.read() as conn:
        after = (await (await conn.execute("SELECT COUNT(*) FROM items")).fetchone())[0]
    assert seen_outside == [0] and after == 2


def test_two_nodes_serialise_their_write_transactions(url):
    asyncio.run(_two_nodes(url))


async def _two_nodes(url):
    """Each "node" counts the rows, then inserts one if there were none: a rule of "at most one
    row" that holds only if the second transaction runs after the first commits. The first holds
    its transaction open until the second has either read (no lock held it: the rule breaks) or
    is seen waiting on the fleet's write lock."""
    nodes = [PostgresDatabase(url, readers=1, writers=1) for _ in range(2)]
    for node in nodes:
        await node.open()
    first_inside, second_read = threading.Event(), threading.Event()

    def second_is_blocked_or_has_read() -> str:
        watcher = connect_sync(url)
        try:
            while not second_read.wait(0.01):
                waiting = watcher.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"
                                          " AND NOT granted").fetchone()[0]
                if waiting:
                    return "blocked"
            return "read"
        finally:
            watcher.close()

    def at_most_one(name: str, read: threading.Event | None):
        def run(conn):
            present = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            if read is None:
                first_inside.set()
                outcomes.append(second_is_blocked_or_has_read())
            else:
                read.set()
            if present == 0:
                conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", (name, "only"))
                return True
            return False
        return run

    outcomes: list[str] = []
    try:
        first = asyncio.create_task(nodes[0].run_write(at_most_one("a", None)))
        assert await asyncio.to_thread(first_inside.wait, 10)
        second = asyncio.create_task(nodes[1].run_write(at_most_one("b", second_read)))
        results = await asyncio.gather(first, second)
    finally:
        for node in nodes:
            await node.close()
    conn = connect_sync(url)
    try:
        ids = [r["id"] for r in conn.execute("SELECT id FROM items").fetchall()]
    finally:
        conn.close()
    assert outcomes == ["blocked"]
    assert results == [True, False] and ids == ["a"]


def test_transaction_sync_takes_the_same_lock(url):
    conn = connect_sync(url)
    other = connect_sync(url)
    try:
        with transaction_sync(conn):
            conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("a", "x"))
            # The fleet's write lock is held: another session cannot take it now.
            taken = other.execute("SELECT pg_try_advisory_xact_lock(?)", (WRITE_LOCK_KEY,)).fetchone()[0]
            assert taken is False
        with pytest.raises(ZeroDivisionError):
            with transaction_sync(conn):
                conn.execute("INSERT INTO items (id, label) VALUES (?, ?)", ("b", "y"))
                1 / 0
        assert [r["id"] for r in other.execute("SELECT id FROM items").fetchall()] == ["a"]
    finally:
        conn.close()
        other.close()
