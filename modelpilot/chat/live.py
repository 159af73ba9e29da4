"""Live event streams (SSE): the visitor's (one widget session) and the inbox's (one workspace).

Each stream subscribes to its topic first, then sends every logged event past the last id it
was given (Last-Event-ID) from the database, then waits: a poke on the bus (core/events.py:
in-process on SQLite, LISTEN/NOTIFY across nodes on Postgres) means "read past your last id
again". So a reconnect misses nothing, and delivery order is the log's order on every node.
An idle stream holds a Poke (no queue) and one waiting task; it sends `: ping`
every heartbeat so proxies keep it open and a gone client is noticed.
"""

from __future__ import annotations

from typing import AsyncIterator, Awaitable, Callable

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


async def _stream(bus: EventBus, topic: str, heartbeat: float, start: Callable[[], Awaitable[int]],
                  read_after: Callable[[int], Awaitable[list[dict]]],
                  shape: Callable[[dict], Awaitable[dict | None]]) -> AsyncIterator[bytes]:
    with bus.subscribe(topic, pokes_only=True) as poke:  # before the first read: nothing after it is missed
        after = await start()
        yield b"retry: %d\n\n" % RETRY_MS
        while True:
            rows = await read_after(after)
            for row in rows:
                after = row["id"]
                data = await shape(row)
                if data is not None:
                    yield frame(row["id"], data)
            if len(rows) == BATCH:
                continue
            if not await poke.wait(heartbeat):  # any number of pokes: one read covers them
                yield PING


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    """Last-Event-ID (the browser's, on reconnect) or `last_event_id=`; None when neither is a number."""
    for value in (header, query):
        if value and value.strip().isdigit():
            return int(value.strip())
    return None


def visitor_events(db: Database, bus: EventBus, workspace_id: str, bot_id: str, session_id: str,
                   last_event_id: int | None, heartbeat: float) -> AsyncIterator[bytes]:
    """Operator and system messages and status changes of one widget session. Without a last id
    it starts from now (the widget has just read the history, which carries `last_event_id`)."""

    async def start() -> int:
        if last_event_id is not None:
            return last_event_id
        async with db.read() as conn:
            return await repo.last_session_event(conn, workspace_id, bot_id, session_id)

    async def read_after(after: int) -> list[dict]:
        async with db.read() as conn:
            return await repo.session_events_after(conn, workspace_id, bot_id, session_id, after, BATCH)

    async def shape(row: dict) -> dict | None:
        return widget_frame(row)

    return _stream(bus, visitor_topic(bot_id, session_id), heartbeat, start, read_after, shape)


def inbox_events(db: Database, bus: EventBus, workspace_id: str, user_id: str | None, last_event_id: int | None,
                 heartbeat: float) -> AsyncIterator[bytes]:
    """Every handoff event of the workspace, each with the inbox counts as they are now."""

    async def start() -> int:
        if last_event_id is not None:
            return last_event_id
        async with db.read() as conn:
            return await repo.last_workspace_event(conn, workspace_id)

    counts: dict = {}  # as they are at the batch's read: one query per batch, not one per event

    async def read_after(after: int) -> list[dict]:
        async with db.read() as conn:
            rows = await repo.workspace_events_after(conn, workspace_id, after, BATCH)
            if rows:
                counts.update(await repo.inbox_counts(conn, workspace_id, user_id or ""))
        return rows

    async def shape(row: dict) -> dict:
        return {**inbox_frame(row), "counts": dict(counts)}

    return _stream(bus, workspace_topic(workspace_id), heartbeat, start, read_after, shape)
