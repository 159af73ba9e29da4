"""SQLite access: one writer behind a lock, a small pool of readers, sqlite-vec on every connection.

The stdlib sqlite3 may be built without extension loading, so connections come from sqlean.py
(its own SQLite) under aiosqlite. Catch the exception classes re-exported here: aiosqlite's
names are the stdlib ones and do not match sqlean's.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Sequence, TypeVar

import aiosqlite
import sqlean
import sqlite_vec

from modelpilot.core.private import private_database, private_dir
from modelpilot.core.foreground import Foreground

DatabaseError = sqlean.DatabaseError
IntegrityError = sqlean.IntegrityError
OperationalError = sqlean.OperationalError

Connection = aiosqlite.Connection
log = logging.getLogger("modelpilot.db")

# busy_timeout comes first so that switching to WAL waits for other processes instead of failing.
PRAGMAS = (
    "PRAGMA busy_timeout = 10000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -65536",
)

# SQLite's automatic checkpoint runs inside whichever commit takes the WAL past 1000 pages: that
# commit, and every write queued behind the lock (a chat turn's), waits while the log is copied
# into the main file and synced. The server's writer turns it off and copies the log itself, under
# the write lock, when no chat turn is starting (PASSIVE: readers are never blocked), or without
# waiting once CHECKPOINT_FORCE_COMMITS commits have piled up, so the log stays bounded on a node
# whose chats never pause. CLI connections keep SQLite's default. Not on a connection of its own:
# with sqlean's SQLite 3.50.4 a checkpoint-only connection, after another process had written and
# truncated the log, copied a stale frame over a live page (tests/core/test_db_checkpoint.py).
CHECKPOINT_CALM_SECONDS = 0.5
CHECKPOINT_FORCE_COMMITS = 1000


def connect_sync(path: Path | str, *, readonly: bool = False) -> sqlean.Connection:
    """A plain (blocking) connection with sqlite-vec loaded and the house pragmas set."""
    if not readonly:
        private_database(Path(path))
    conn = sqlean.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.enable_load_extension(True)
    try:
        sqlite_vec.load(conn)
    finally:
        conn.enable_load_extension(False)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    conn.row_factory = sqlean.Row
    return conn


def dialect(conn: Any) -> str:
    """"sqlite" or "postgres": which SQL the connection takes, for the few statements that differ."""
    return getattr(conn, "dialect", "sqlite")


@contextmanager
def transaction_sync(conn: Any) -> Iterator[Any]:
    """A write transaction on a blocking connection (CLI jobs): BEGIN IMMEDIATE (on Postgres:
    BEGIN and the fleet's write lock), then COMMIT, or ROLLBACK on any error, interrupts included."""
    if dialect(conn) == "postgres":
        conn.begin_write()
    else:
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


async def open_connection(path: Path | str, *, readonly: bool = False) -> Connection:
    conn = aiosqlite.Connection(lambda: connect_sync(path, readonly=readonly), iter_chunk_size=64)
    conn.daemon = True  # a forgotten connection must not keep the process alive
    return await conn


class Database:
    """What every domain is given: `read()` a connection, `write()` a transaction, or
    `run_write(fn)` / `run_read(fn)` a whole function on a connection's thread. Two kinds:
    SqliteDatabase below and core/pg.py's PostgresDatabase."""

    backend = ""
    _readers: asyncio.Queue  # the read connections, filled by open()

    @property
    def foreground(self) -> Foreground:
        """This process's interactive work in flight (core/foreground.py): chat turns hold it,
        the webhook worker steps aside for it."""
        found = self.__dict__.get("_foreground")
        if found is None:
            found = self.__dict__["_foreground"] = Foreground()
        return found

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        """A reader connection from the pool, back to the pool afterwards."""
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    def write(self):
        raise NotImplementedError

    async def run_write(self, fn):
        raise NotImplementedError

    async def run_read(self, fn):
        raise NotImplementedError

    async def run_atomic(self, fn):
        """fn(conn) for writes whose every statement is atomic by itself (core/counters_repo's
        throttle calls lock what they touch): Postgres runs them on an autocommit connection,
        without the fleet's write lock; SQLite within its one writer, as run_write."""
        raise NotImplementedError


class SqliteDatabase(Database):
    """One writer connection (serialised by an asyncio lock) and a pool of reader connections."""

    backend = "sqlite"

    def __init__(self, path: Path | str, readers: int = 4) -> None:
        self.path = Path(path)
        self._reader_count = readers
        self._readers: asyncio.Queue[Connection] = asyncio.Queue()
        self._all_readers: list[Connection] = []
        self._writer: Connection | None = None
        self._write_lock = asyncio.Lock()
        self.checkpoint_force_commits = CHECKPOINT_FORCE_COMMITS  # tests lower or raise this
        self._commits = 0  # since the last checkpoint began
        self._dirty: asyncio.Event | None = None  # made by open(), on the loop that uses them
        self._stop: asyncio.Event | None = None
        self._checkpointer: asyncio.Task | None = None

    async def open(self) -> None:
        private_dir(self.path.parent)
        self._writer = await open_connection(self.path)
        await self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        for _ in range(self._reader_count):
            reader = await open_connection(self.path, readonly=True)
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)
        self._dirty, self._stop = asyncio.Event(), asyncio.Event()
        self._checkpointer = asyncio.create_task(self._checkpoints(), name="sqlite-checkpoints")

    async def _checkpoints(self) -> None:
        assert self._dirty is not None and self._stop is not None and self._writer is not None
        while True:
            await self._dirty.wait()
            while (self.foreground.recent(CHECKPOINT_CALM_SECONDS)
                   and self._commits < self.checkpoint_force_commits and not self._stop.is_set()):
                try:
                    await asyncio.wait_for(self._stop.wait(), CHECKPOINT_CALM_SECONDS)
                except asyncio.TimeoutError:
                    pass
            if self._stop.is_set():
                return
            self._dirty.clear()
            self._commits = 0
            try:
                async with self._write_lock:
                    await self._writer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
            except DatabaseError:
                log.exception("WAL checkpoint failed; the next commit tries again")

    def _committed(self) -> None:
        self._commits += 1
        if self._dirty is not None:
            self._dirty.set()

    async def close(self) -> None:
        if self._checkpointer is not None:
            assert self._dirty is not None and self._stop is not None
            self._stop.set()
            self._dirty.set()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        if self._writer is not None:
            async with self._write_lock:
                # Fold the WAL back into the main file so a stopped instance is one file.
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                await self._writer.close()
            self._writer = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE). Do not nest: the lock is not re-entrant."""
        assert self._writer is not None, "database is not open"
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")
                self._committed()


    async def run_write(self, fn: Callable[[sqlean.Connection], T]) -> T:
        """Run fn(conn) as one whole write transaction on the writer's own thread.

        Each `await conn.execute(...)` is a hop to the connection's thread and back; a turn's
        save was ~9 of them inside the write lock, so the lock was held across as many event-loop
        round trips. Here the transaction is one hop (Datasette's execute_write_fn is the model).
        fn gets the blocking connection and must not await or block on anything but SQLite.
        """
        assert self._writer is not None, "database is not open"
        writer = self._writer
        async with self._write_lock:
            # aiosqlite runs a callable on its thread through _execute; there is no public name for it.
            result = await writer._execute(_transaction_of, writer._conn, fn)
            self._committed()
            return result

    async def run_read(self, fn: Callable[[sqlean.Connection], T]) -> T:
        """fn(conn) on a reader's thread: several queries for one hop."""
        async with self.read() as conn:
            return await conn._execute(fn, conn._conn)

    async def run_atomic(self, fn: Callable[[sqlean.Connection], T]) -> T:
        return await self.run_write(fn)


T = TypeVar("T")


def _transaction_of(conn: sqlean.Connection, fn: Callable[[sqlean.Connection], T]) -> T:
    with transaction_sync(conn):
        return fn(conn)


def _as_dict(row: Any) -> dict[str, Any]:
    return dict(zip(row.keys(), row))  # rows iterate their values (sqlite3.Row, core/pg.Row): 2x a dict comprehension


def _as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    keys = rows[0].keys()  # one result's rows share their columns
    return [dict(zip(keys, row)) for row in rows]


# execute_fetchall is one hop to the connection's thread; execute + fetch + close would be three,
# and under many concurrent requests (50 chat streams) those hops were most of the latency.
async def fetch_one(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> dict[str, Any] | None:
    rows = await conn.execute_fetchall(sql, params)
    return _as_dict(rows[0]) if rows else None


async def fetch_all(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> list[dict[str, Any]]:
    return _as_dicts(await conn.execute_fetchall(sql, params))


async def fetch_value(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> Any:
    rows = await conn.execute_fetchall(sql, params)
    return rows[0][0] if rows else None


def fetch_one_sync(conn: Any, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """fetch_one on a blocking connection (inside run_read / run_write), either engine."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else _as_dict(row)


def fetch_all_sync(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    return _as_dicts(conn.execute(sql, params).fetchall())


async def execute(conn: Connection, sql: str, params: Sequence[Any] | dict = ()) -> int:
    """Run one statement; returns the number of rows changed."""
    async with conn.execute(sql, params) as cursor:
        return cursor.rowcount


async def run_on(conn: Any, fn: Callable[[Any], T]) -> T:
    """fn(blocking connection) on an async connection's own thread, inside whatever transaction
    that connection holds: lets a repo's `*_sync` function join a `db.write()` transaction, so one
    SQL function serves both `run_write` callers and `async with db.write()` callers."""
    if dialect(conn) == "postgres":
        return await conn.call(fn, conn.sync)
    return await conn._execute(fn, conn._conn)  # aiosqlite's thread; no public name for it


async def execute_many(conn: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    await conn.executemany(sql, rows)
