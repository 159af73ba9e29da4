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
from typing import Any

log = logging.getLogger("modelpilot.events")
CHANNEL = "modelpilot_events"
QUEUE_SIZE = 256  # a subscriber that falls this far behind loses the oldest events, not the node
LISTEN_POLL_SECONDS = 0.5


class Poke:
    """A subscription that only needs to hear "something arrived" (a live stream that re-reads
    its log): no queue and no timer of its own, so an idle one costs a few hundred bytes."""

    __slots__ = ("_waiter", "_pending", "_beats")

    def __init__(self, beats: "Heartbeats") -> None:
        self._waiter: asyncio.Future | None = None
        self._pending = False
        self._beats = beats

    def full(self) -> bool:
        return False

    def put_nowait(self, event: dict[str, Any]) -> None:
        self._pending = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    async def wait(self, timeout: float) -> bool:
        """True when poked since the last wait, else False at the next beat of `timeout` seconds
        (shared by every Poke waiting with that timeout: at most `timeout` seconds from now)."""
        if not self._pending:
            beat = self._beats.of(timeout)
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            beat.add(waiter)
            try:
                if not await waiter:
                    return False
            finally:
                beat.discard(waiter)
                self._waiter = None
        self._pending = False
        return True


class Heartbeat:
    """One timer for every Poke waiting with the same timeout (one per idle stream was a
    timer handle each): every `period` seconds it wakes all of them with False."""

    __slots__ = ("_period", "_waiters", "_timer")

    def __init__(self, period: float) -> None:
        self._period = period
        self._waiters: set[asyncio.Future] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, waiter: asyncio.Future) -> None:
        self._waiters.add(waiter)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._period, self._beat)

    def discard(self, waiter: asyncio.Future) -> None:
        self._waiters.discard(waiter)

    def _beat(self) -> None:
        waiters, self._waiters, self._timer = self._waiters, set(), None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(False)


class Heartbeats:
    """The Heartbeat of each timeout in use (a stream's heartbeat setting: usually one)."""

    __slots__ = ("_by_period",)

    def __init__(self) -> None:
        self._by_period: dict[float, Heartbeat] = {}

    def of(self, period: float) -> Heartbeat:
        found = self._by_period.get(period)
        if found is None:
            found = self._by_period[period] = Heartbeat(period)
        return found


class Subscription:
    """`with bus.subscribe(topic) as queue:` (a small object, not a generator-based context)."""

    __slots__ = ("_bus", "_topic", "_queue")

    def __init__(self, bus: "EventBus", topic: str, queue: Any) -> None:
        self._bus, self._topic, self._queue = bus, topic, queue

    def __enter__(self) -> Any:
        self._bus._add(self._topic, self._queue)
        return self._queue

    def __exit__(self, *exc: object) -> None:
        self._bus._remove(self._topic, self._queue)


class EventBus:
    """In-process delivery; `PostgresEventBus` adds the crossing between nodes."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Any]] = {}
        self._beats = Heartbeats()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop subscribers wait on (set by start)."""
        return self._loop

    async def stop(self) -> None:
        return None

    def subscribe(self, topic: str, *, pokes_only: bool = False) -> "Subscription":
        """A queue that receives every event of `topic` while the `with` block runs (pokes_only:
        a Poke that says only that events arrived)."""
        return Subscription(self, topic, Poke(self._beats) if pokes_only else asyncio.Queue(QUEUE_SIZE))

    def _add(self, topic: str, queue: Any) -> None:
        # A list, not a set: most topics (one widget session) have one subscriber, and a
        # one-item list is a quarter of a one-item set; every idle stream holds one.
        self._subscribers.setdefault(topic, []).append(queue)

    def _remove(self, topic: str, queue: Any) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is None:
            return
        if queue in subscribers:
            subscribers.remove(queue)
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
