"""A small publish/subscribe bus for live events (an inbox showing new messages as they come).

One SQLite node: subscribers live in this process, so publishing hands the event to them
directly. A Postgres fleet: every node keeps one connection LISTENing on one channel and a
publish is a NOTIFY, so an event published on any node reaches the subscribers of every node
(its own included, through the same path). Events are small JSON objects (NOTIFY carries at most
8000 bytes): ids to look up, not the data itself. Delivery is live-only: a subscriber that was
not listening misses the event, as a browser that was offline would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

log = logging.getLogger("modelpilot.events")
CHANNEL = "modelpilot_events"
QUEUE_SIZE = 256  # a subscriber that falls this far behind loses the oldest events, not the node
LISTEN_POLL_SECONDS = 0.5


class Poke:
    """A subscription that only needs to hear "something arrived" (a live stream that re-reads
    its log): no queue, so an idle one costs a few hundred bytes."""

    __slots__ = ("_waiter", "_pending")

    def __init__(self) -> None:
        self._waiter: asyncio.Future | None = None
        self._pending = False

    def full(self) -> bool:
        return False

    def put_nowait(self, event: dict[str, Any]) -> None:
        self._pending = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    async def wait(self, timeout: float) -> bool:
        """True when poked since the last wait (or within `timeout` seconds), else False."""
        if not self._pending:
            # A bare timer that resolves the waiter (not asyncio.timeout, whose context manager,
            # Timeout object and cancellation bookkeeping every idle stream would hold).
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _expire, waiter)
            try:
                if not await waiter:
                    return False
            finally:
                timer.cancel()
                self._waiter = None
        self._pending = False
        return True


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(False)


class EventBus:
    """In-process delivery; `PostgresEventBus` adds the crossing between nodes."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop subscribers wait on (set by start)."""
        return self._loop

    async def stop(self) -> None:
        return None

    @contextmanager
    def subscribe(self, topic: str, *, pokes_only: bool = False) -> Iterator[Any]:
        """A queue that receives every event of `topic` while the block runs (pokes_only: a
        Poke that says only that events arrived)."""
        queue: Any = Poke() if pokes_only else asyncio.Queue(QUEUE_SIZE)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(topic, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(topic, None)

    def subscriber_count(self, topic: str | None = None) -> int:
        """Open subscriptions (of one topic, or all): a stream that ended must have left."""
        if topic is not None:
            return len(self._subscribers.get(topic, ()))
        return sum(len(queues) for queues in self._subscribers.values())

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        self._deliver(topic, event)

    def _deliver(self, topic: str, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)


class PostgresEventBus(EventBus):
    """LISTEN on one connection per node (its own thread); NOTIFY to publish."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = threading.Event()
        self._publisher = None  # one connection for this node's NOTIFYs, opened on first use
        self._publish_lock = threading.Lock()

    async def start(self) -> None:
        await super().start()
        self._thread = threading.Thread(target=self._listen, name="modelpilot-events", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._listening.wait, 10)

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
        if self._publisher is not None:
            self._publisher.close()

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        payload = json.dumps({"topic": topic, "event": event}, separators=(",", ":"))
        await asyncio.to_thread(self._notify, payload)

    def _notify(self, payload: str) -> None:
        import psycopg

        with self._publish_lock:
            for attempt in (1, 2):  # a connection the server dropped is replaced once
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = psycopg.connect(self._url, autocommit=True)
                    self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.OperationalError:
                    self._publisher = None
                    if attempt == 2:
                        raise

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=LISTEN_POLL_SECONDS):
                            self._arrived(note.payload)
            except psycopg.Error:
                log.exception("event listener lost its connection; reconnecting")
                self._stop.wait(1)

    def _arrived(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed event on %s", CHANNEL)
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, message["topic"], message["event"])


def event_bus_for(settings: Any) -> EventBus:
    return PostgresEventBus(settings.database_url) if settings.database_url else EventBus()
