"""Live event streams (SSE): the visitor's (one widget session) and the inbox's (one workspace).

Each stream subscribes to its topic first, then sends every logged event past the last id it
was given (Last-Event-ID) from the database, then waits: a poke on the bus (core/events.py:
in-process on SQLite, LISTEN/NOTIFY across nodes on Postgres) means "read past your last id
again". So a reconnect misses nothing, and delivery order is the log's order on every node.
An idle stream holds its source (a slotted object), a Poke (no queue) and its generator; it sends `: ping`
every heartbeat so proxies keep it open and a gone client is noticed.
"""

from __future__ import annotations

from typing import AsyncIterator

import msgspec

from modelpilot.chat import handoff_repo as repo
from modelpilot.chat.handoff_events import inbox_frame, visitor_topic, widget_frame, workspace_topic
from modelpilot.core.db import Database
from modelpilot.core.events import EventBus

BATCH = 200
RETRY_MS = 3000
PING = b": ping\n\n"
_encode = msgspec.json.Encoder().encode


def frame(event_id: int, data: dict) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (event_id, _encode(data))


class _Source:
    """Where one stream's events come from: a slotted object (no closures and cells per stream)."""

    __slots__ = ("db", "workspace_id", "last_event_id")

    def __init__(self, db: Database, workspace_id: str, last_event_id: int | None) -> None:
        self.db, self.workspace_id, self.last_event_id = db, workspace_id, last_event_id

    async def start(self) -> int:
        if self.last_event_id is not None:
            return self.last_event_id
        async with self.db.read() as conn:
            return await self.last_id(conn)

    async def last_id(self, conn) -> int:
        raise NotImplementedError

    async def read_after(self, after: int) -> list[dict]:
        raise NotImplementedError

    def shape(self, row: dict) -> dict | None:
        raise NotImplementedError


async def _stream(bus: EventBus, topic: str, heartbeat: float, source: _Source) -> AsyncIterator[bytes]:
    with bus.subscribe(topic, pokes_only=True) as poke:  # before the first read: nothing after it is missed
        after = await source.start()
        yield b"retry: %d\n\n" % RETRY_MS
        while True:
            rows = await source.read_after(after)
            full = len(rows) == BATCH
            for row in rows:
                after = row["id"]
                data = source.shape(row)
                if data is not None:
                    yield frame(after, data)
            rows = row = data = None  # an idle stream keeps no rows of its last batch
            if full:
                continue
            if not await poke.wait(heartbeat):  # any number of pokes: one read covers them
                yield PING


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    """Last-Event-ID (the browser's, on reconnect) or `last_event_id=`; None when neither is a number."""
    for value in (header, query):
        if value and value.strip().isdigit():
            return int(value.strip())
    return None


class _VisitorSource(_Source):
    __slots__ = ("bot_id", "session_id")

    def __init__(self, db: Database, workspace_id: str, bot_id: str, session_id: str,
                 last_event_id: int | None) -> None:
        super().__init__(db, workspace_id, last_event_id)
        self.bot_id, self.session_id = bot_id, session_id

    async def last_id(self, conn) -> int:
        return await repo.last_session_event(conn, self.workspace_id, self.bot_id, self.session_id)

    async def read_after(self, after: int) -> list[dict]:
        async with self.db.read() as conn:
            return await repo.session_events_after(conn, self.workspace_id, self.bot_id, self.session_id,
                                                   after, BATCH)

    def shape(self, row: dict) -> dict | None:
        return widget_frame(row)


class _InboxSource(_Source):
    __slots__ = ("user_id", "counts")

    def __init__(self, db: Database, workspace_id: str, user_id: str | None, last_event_id: int | None) -> None:
        super().__init__(db, workspace_id, last_event_id)
        self.user_id = user_id or ""
        self.counts: dict = {}  # as they are at the batch's read: one query per batch, not one per event

    async def last_id(self, conn) -> int:
        return await repo.last_workspace_event(conn, self.workspace_id)

    async def read_after(self, after: int) -> list[dict]:
        async with self.db.read() as conn:
            rows = await repo.workspace_events_after(conn, self.workspace_id, after, BATCH)
            if rows:
                self.counts = await repo.inbox_counts(conn, self.workspace_id, self.user_id)
        return rows

    def shape(self, row: dict) -> dict:
        return {**inbox_frame(row), "counts": dict(self.counts)}


def visitor_events(db: Database, bus: EventBus, workspace_id: str, bot_id: str, session_id: str,
                   last_event_id: int | None, heartbeat: float) -> AsyncIterator[bytes]:
    """Operator and system messages and status changes of one widget session. Without a last id
    it starts from now (the widget has just read the history, which carries `last_event_id`)."""
    source = _VisitorSource(db, workspace_id, bot_id, session_id, last_event_id)
    return _stream(bus, visitor_topic(bot_id, session_id), heartbeat, source)


def inbox_events(db: Database, bus: EventBus, workspace_id: str, user_id: str | None, last_event_id: int | None,
                 heartbeat: float) -> AsyncIterator[bytes]:
    """Every handoff event of the workspace, each with the inbox counts as they are now."""
    return _stream(bus, workspace_topic(workspace_id), heartbeat, _InboxSource(db, workspace_id, user_id, last_event_id))
