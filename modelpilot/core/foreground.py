"""Interactive work in flight, so background work on the same node can step aside.

A chat turn holds `hold()` from its request until its answer begins (the part a person waits
for: the handoff check, the quota and conversation writes, retrieval, opening the model's
stream). The webhook delivery worker calls `quiet(longest)` before each POST and before its
write: it goes on at once when no turn is starting, else when the last one has begun its
answer, or after `longest` seconds whatever happens, so a steady stream of chats slows
deliveries down but never stops them. Per process: each node of a fleet yields to its own turns.

`recent(seconds)` says whether a turn began that recently: a worker yielding to chat runs one job
at a time while people are chatting, so few deliveries are in flight when the next turn starts
(a POST already under way cannot step aside; it shares the event loop with the turn).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from typing import Iterator


class Foreground:
    __slots__ = ("_active", "_quiet", "_began")

    def __init__(self) -> None:
        self._active = 0
        self._quiet: asyncio.Event | None = None
        self._began = float("-inf")  # time.monotonic() of the latest hold()

    @property
    def active(self) -> int:
        return self._active

    def recent(self, seconds: float) -> bool:
        """Interactive work is in flight or began within the last `seconds`."""
        return self._active > 0 or time.monotonic() - self._began < seconds

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._active += 1
        self._began = time.monotonic()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0 and self._quiet is not None:
                self._quiet.set()
                self._quiet = None

    async def quiet(self, longest: float) -> None:
        """Return once no interactive work is in flight, or after `longest` seconds."""
        if self._active == 0:
            return
        if self._quiet is None:
            self._quiet = asyncio.Event()
        try:
            await asyncio.wait_for(self._quiet.wait(), longest)
        except asyncio.TimeoutError:
            pass
