"""Interactive work in flight, so background work on the same node can step aside.

A chat turn holds `hold()` from its request until its answer begins (the part a person waits
for: the handoff check, the quota and conversation writes, retrieval, opening the model's
stream). The webhook delivery worker calls `quiet(longest)` before each POST and before its
write: it goes on at once when no turn is starting, else when the last one has begun its
answer, or after `longest` seconds whatever happens, so a steady stream of chats slows
deliveries down but never stops them. Per process: each node of a fleet yields to its own turns.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import Iterator


class Foreground:
    __slots__ = ("_active", "_quiet")

    def __init__(self) -> None:
        self._active = 0
        self._quiet: asyncio.Event | None = None

    @property
    def active(self) -> int:
        return self._active

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._active += 1
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
