"""Postgres access with the same shape as the SQLite `Database`: readers, one write transaction
at a time, `run_write(fn)` / `run_read(fn)` in one hop.

Repos are written once, with `?` placeholders and SQL both engines accept; the few statements
that differ ask `dialect(conn)`. psycopg 3 is synchronous here on purpose: each connection lives
on its own thread (as aiosqlite's do), so a repo's blocking functions (`run_write`) run unchanged
on either backend.

Writes are serialised across the whole fleet by a transaction-scoped advisory lock, so every
read-then-write rule that holds on SQLite's single writer (quotas, caps, "at most N") holds here
too, whichever node runs it.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any, AsyncIterator, Callable, Iterable, Sequence, TypeVar
from urllib.parse import parse_qsl, urlsplit

import sqlean

from modelpilot.core.db import Database

T = TypeVar("T")

DIALECT = "postgres"
# pg_advisory_xact_lock key of "the writer" (any constant; "MPWRITER" in ASCII hex).
WRITE_LOCK_KEY = 0x4D5057524954
CONNECT_TIMEOUT_SECONDS = 10
# Set on every connection once, at connect, so a vector search is one statement (one round trip)
# instead of BEGIN, SET LOCAL, the query, COMMIT. pgvector's HNSW index holds every bot's
# vectors: iterative scans (pgvector 0.8) keep walking the graph until a bot's k nearest are
# found, and relaxed_order may return them slightly out of order (rag/store.py re-sorts).
# ef_search, the candidate list, caps recall: measured in bench/retrieval_perf.py against an
# exact scan; a search for more than HNSW_EF_SEARCH rows raises it for its own transaction.
HNSW_EF_SEARCH = 100
SESSION_SETTINGS = {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": str(HNSW_EF_SEARCH)}


class PostgresUnavailable(RuntimeError):
    """Start-up cannot use the configured Postgres; the message is one line saying why."""


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or dict(parse_qsl(parts.query)).get("host", "")
    return f"postgresql://{parts.username or ''}@{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, and every literal `%` to `%%`. A `?` in quoted text or
    a comment is left alone; a `%` there is doubled too, since psycopg reads placeholders without
    knowing SQL's quoting (the server still receives the single `%`)."""
    def swap(match: re.Match) -> str:
        token = match.group(0)
        return "%s" if token == "?" else token.replace("%", "%%")
    return _TOKEN.sub(swap, sql)


def _plain(value: Any) -> Any:
    # SUM() and AVG() of integers are numeric in Postgres; SQLite gives int/float.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


class Row(tuple):
    """A result row read by position or by column name, like sqlite3.Row."""

    __slots__ = ()
    _names: dict[str, int] = {}

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_names": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor):
    description = cursor.description
    if description is None:
        return lambda values: values
    cls = _row_class(tuple(column.name for column in description))
    return lambda values: cls(_plain(value) for value in values)


class Cursor:
    """The part of sqlite3.Cursor the code uses: fetchone, fetchall, iteration, rowcount."""

    def __init__(self, cursor) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self):
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self):
        return iter(self.fetchall())


class SyncConnection:
    """A blocking Postgres connection that takes the SQLite-style SQL the repos write."""

    dialect = DIALECT

    def __init__(self, raw) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> Cursor:
        try:
            return Cursor(self._raw.execute(translate(sql), tuple(params or ())))
        except _psycopg().errors.IntegrityError as exc:
            raise sqlean.IntegrityError(str(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if not rows:
            return
        try:
            with self._raw.cursor() as cursor:
                cursor.executemany(translate(sql), rows)
        except _psycopg().errors.IntegrityError as exc:
            raise sqlean.IntegrityError(str(exc)) from exc

    def begin_write(self) -> None:
        begin_write(self)

    def executescript(self, script: str) -> None:
        self._raw.execute(script)

    @property
    def in_transaction(self) -> bool:
        return self._raw.info.transaction_status != _psycopg().pq.TransactionStatus.IDLE

    def close(self) -> None:
        self._raw.close()


def _psycopg():
    import psycopg

    return psycopg


def connect_sync(url: str) -> SyncConnection:
    """An autocommit connection; `transaction_sync` / `Database.write()` open transactions."""
    psycopg = _psycopg()
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                              row_factory=_row_factory, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or exc.__class__.__name__
        raise PostgresUnavailable(f"cannot connect to {describe_url(url)}: {reason}") from None
    except psycopg.ProgrammingError as exc:
        raise PostgresUnavailable(f"MODELPILOT_DATABASE_URL is not a usable Postgres URL: {exc}") from None
    # Session-level (is_local false): outside any transaction, so nothing can roll it back.
    raw.execute("SELECT " + ", ".join("set_config(%s, %s, false)" for _ in SESSION_SETTINGS),
                [part for item in SESSION_SETTINGS.items() for part in item])
    return SyncConnection(raw)


def begin_write(conn: SyncConnection) -> None:
    conn.execute("BEGIN")
    conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))


class _AsyncCursor:
    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    async def __aenter__(self) -> "_AsyncCursor":
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchall(self):
        return self._cursor.fetchall()


class _Pending:
    """`await conn.execute(...)` and `async with conn.execute(...) as cursor` both work."""

    def __init__(self, coro) -> None:
        self._coro = coro
        self._cursor: _AsyncCursor | None = None

    def __await__(self):
        return self._coro.__await__()

    async def __aenter__(self) -> _AsyncCursor:
        self._cursor = await self._coro
        return self._cursor

    async def __aexit__(self, *exc) -> None:
        return None


class Connection:
    """The async face of one Postgres connection, on a thread of its own (aiosqlite's model)."""

    dialect = DIALECT

    def __init__(self, sync: SyncConnection) -> None:
        self.sync = sync
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelpilot-pg")

    async def call(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Pending:
        async def run() -> _AsyncCursor:
            return _AsyncCursor(await self.call(self.sync.execute, sql, params))
        return _Pending(run())

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list:
        return await self.call(lambda: self.sync.execute(sql, params).fetchall())

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        await self.call(self.sync.executemany, sql, rows)

    async def close(self) -> None:
        await self.call(self.sync.close)
        self._thread.shutdown(wait=False)


def _transaction(conn: SyncConnection, fn: Callable[[SyncConnection], T]) -> T:
    begin_write(conn)
    try:
        result = fn(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


class PostgresDatabase(Database):
    """Readers and writers from one small pool of connections; see the module note on writes."""

    backend = DIALECT

    def __init__(self, url: str, readers: int = 4, writers: int = 2) -> None:
        self.url = url
        self._sizes = (readers, writers)
        self._readers: asyncio.Queue[Connection] = asyncio.Queue()
        self._writers: asyncio.Queue[Connection] = asyncio.Queue()
        self._all: list[Connection] = []

    async def open(self) -> None:
        readers, writers = self._sizes
        for queue, count in ((self._readers, readers), (self._writers, writers)):
            for _ in range(count):
                conn = Connection(await asyncio.to_thread(connect_sync, self.url))
                self._all.append(conn)
                queue.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """A write transaction holding the fleet-wide write lock. Do not nest."""
        conn = await self._writers.get()
        try:
            await conn.call(begin_write, conn.sync)
            try:
                yield conn
            except BaseException:
                await conn.call(conn.sync.execute, "ROLLBACK")
                raise
            else:
                await conn.call(conn.sync.execute, "COMMIT")
        finally:
            self._writers.put_nowait(conn)

    async def run_write(self, fn: Callable[[SyncConnection], T]) -> T:
        conn = await self._writers.get()
        try:
            return await conn.call(_transaction, conn.sync, fn)
        finally:
            self._writers.put_nowait(conn)

    async def run_read(self, fn: Callable[[SyncConnection], T]) -> T:
        async with self.read() as conn:
            return await conn.call(fn, conn.sync)

    async def run_atomic(self, fn: Callable[[SyncConnection], T]) -> T:
        """fn(conn) on an autocommit connection: each statement its own transaction, and no
        fleet write lock. A reader's connection: the writers' may be queued behind that lock,
        and these statements lock only the rows or keys they touch."""
        async with self.read() as conn:
            return await conn.call(fn, conn.sync)
