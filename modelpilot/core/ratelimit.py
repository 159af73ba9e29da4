"""Sliding-window counters for throttling (login attempts, password resets, widget traffic).

One SQLite node serves its instance alone, so memory is the right place there: no Redis.
Windows are short and keys expire, so the map stays small. A Postgres fleet keeps the same
windows in the database (DatabaseThrottle), so every node counts against one limit.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from modelpilot.core import counters_repo


class SlidingWindow:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may act again; 0 when it may act now."""
        now = self._clock()
        hits = self._prune(key, now)
        if len(hits) < self.limit:
            if not hits:
                self._hits.pop(key, None)
            return 0
        return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, key: str) -> None:
        now = self._clock()
        self._prune(key, now).append(now)
        if len(self._hits) > 100_000:
            self._sweep(now)

    def take(self, key: str) -> int:
        """Count one hit if allowed; returns 0 when allowed, else the seconds to wait."""
        wait = self.retry_after(key)
        if wait == 0:
            self.hit(key)
        return wait

    def forget_one(self, key: str) -> None:
        """Take back the newest hit of `key` (one counted up front that turned out harmless)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()
            if not hits:
                del self._hits[key]

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `seconds` for each key; `name` keeps one limit's keys apart."""

    name: str
    limit: int
    seconds: float


class Throttle:
    """Counts hits against limits. One face, two homes, chosen at app assembly (`throttle_for`):
    memory for one SQLite node (fast, nothing shared to keep), the database for a Postgres fleet,
    so an attacker spreading attempts over N nodes meets the limit of one."""

    async def take(self, *checks: tuple[Limit, str]) -> int:
        """All or nothing: when every (limit, key) has room, count one hit on each and return 0;
        otherwise count none and return the seconds to wait."""
        raise NotImplementedError

    async def retry_after(self, limit: Limit, key: str) -> int:
        raise NotImplementedError

    async def hit(self, limit: Limit, key: str) -> None:
        raise NotImplementedError

    async def forget_one(self, limit: Limit, key: str) -> None:
        """Take back the newest hit of `key` (one counted up front that turned out harmless)."""
        raise NotImplementedError

    async def reset(self, limit: Limit, key: str) -> None:
        raise NotImplementedError


class MemoryThrottle(Throttle):
    """Sliding windows in this process. No method awaits anything, so a check and its count
    happen with nothing in between on the event loop."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[Limit, SlidingWindow] = {}

    def _window(self, limit: Limit) -> SlidingWindow:
        window = self._windows.get(limit)
        if window is None:
            window = self._windows[limit] = SlidingWindow(limit.limit, limit.seconds, self._clock)
        return window

    async def take(self, *checks: tuple[Limit, str]) -> int:
        wait = max((self._window(limit).retry_after(key) for limit, key in checks), default=0)
        if wait == 0:
            for limit, key in checks:
                self._window(limit).hit(key)
        return wait

    async def retry_after(self, limit: Limit, key: str) -> int:
        return self._window(limit).retry_after(key)

    async def hit(self, limit: Limit, key: str) -> None:
        self._window(limit).hit(key)

    async def forget_one(self, limit: Limit, key: str) -> None:
        self._window(limit).forget_one(key)

    async def reset(self, limit: Limit, key: str) -> None:
        self._window(limit).reset(key)


class DatabaseThrottle(Throttle):
    """The same sliding windows as rows of rate_hits, each operation one atomic statement (one
    hop) outside the fleet's write lock: on Postgres a check-and-count locks only its own keys
    (migration 0012's rate_take), so hits on one key are ordered across every node while other
    keys and writes go on; the database's clock is the one clock every node reads."""

    SWEEP_SECONDS = 600

    def __init__(self, db) -> None:
        self._db = db

    async def take(self, *checks: tuple[Limit, str]) -> int:
        rows = [(_key(limit, key), limit.limit, limit.seconds) for limit, key in checks]
        return await self._db.run_atomic(lambda conn: counters_repo.take_sync(conn, rows))

    async def retry_after(self, limit: Limit, key: str) -> int:
        row = (_key(limit, key), limit.limit, limit.seconds)
        return await self._db.run_atomic(lambda conn: counters_repo.take_sync(conn, [row], count=False))

    async def hit(self, limit: Limit, key: str) -> None:
        row = (_key(limit, key), limit.limit, limit.seconds)
        await self._db.run_atomic(lambda conn: counters_repo.hit_sync(conn, row))

    async def forget_one(self, limit: Limit, key: str) -> None:
        await self._db.run_atomic(lambda conn: counters_repo.forget_newest_sync(conn, _key(limit, key)))

    async def reset(self, limit: Limit, key: str) -> None:
        await self._db.run_atomic(lambda conn: counters_repo.forget_all_sync(conn, _key(limit, key)))

    async def sweep(self) -> int:
        """Hits past their window, of keys never seen again (a key's own are pruned as it is used)."""
        return await self._db.run_atomic(counters_repo.sweep_expired_sync)


def _key(limit: Limit, key: str) -> str:
    return f"{limit.name}:{key}"


def throttle_for(db) -> Throttle:
    return MemoryThrottle() if db.backend == "sqlite" else DatabaseThrottle(db)
