"""In-memory sliding-window counters for throttling (login attempts, widget traffic).

One process serves an instance, so memory is the right place: no Redis. Windows are short
and keys expire, so the map stays small.
"""

from __future__ import annotations

import math
import time
from collections import deque


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
