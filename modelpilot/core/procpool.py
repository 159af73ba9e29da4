"""Run untrusted, CPU-bound work in child processes that can really be stopped.

A thread cannot be interrupted while it parses a hostile file; a process can. Each call gets a
wall-clock budget: when it runs out (or the awaiting task is cancelled) the child is killed
with SIGKILL and a fresh one takes its place for the next call. Children are started with
`spawn` (never `fork`): the server runs threads (uvicorn, aiosqlite, anyio workers), and a fork
of a threaded process can inherit a lock held by another thread and hang. Under PyInstaller a
spawned child re-runs the executable, which `multiprocessing.freeze_support()` in the entry
point turns into the child loop below.

Functions and arguments cross the pipe by pickle, so a function must be importable by name.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Callable

import anyio

log = logging.getLogger("modelpilot.procpool")

START_TIMEOUT_SECONDS = 120.0  # a cold start of a one-file binary on a busy machine is slow


class BudgetExceeded(Exception):
    """The call ran past its wall-clock budget; its child was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"ran longer than {seconds:g} s")
        self.seconds = seconds


class ChildDied(Exception):
    """The child ended without answering (crashed, or ran out of memory)."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"worker process ended unexpectedly (exit code {exitcode})")
        self.exitcode = exitcode


def _exit_with_parent() -> None:
    """A child must not outlive a server that was killed mid-job (kill -9 leaves no cleanup)."""
    import os

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError naming it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def child_main(conn: Connection, preload: tuple[str, ...]) -> None:
    """The child's loop: import what calls need, then answer one request at a time until EOF."""
    # Ctrl+C in a terminal reaches the whole process group: the server stops its children itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    for name in preload:
        importlib.import_module(name)
    conn.send(("ready", None))
    while True:
        try:
            func, args = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe: shut down quietly
        try:
            reply = ("ok", func(*args))
        except Exception as exc:  # the parent re-raises it where the call was made
            reply = ("raised", _portable(exc))
        conn.send(reply)


@dataclass(eq=False)  # identity, so a child can sit in a set
class _Child:
    process: Any
    conn: Connection
    last_used: float = field(default_factory=time.monotonic)

    def kill(self) -> None:
        """SIGKILL (TerminateProcess on Windows): nothing in the child can delay it. The pipe is
        left to whoever still reads it (see _exchange); a dead child gives that reader EOF."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2)


class ProcessPool:
    """Up to `size` children; `run` waits for a free one, so callers are bounded by `size` too."""

    def __init__(self, size: int, budget_seconds: float, preload: tuple[str, ...] = (),
                 idle_seconds: float = 300.0) -> None:
        self.size, self.budget_seconds, self.idle_seconds = size, budget_seconds, idle_seconds
        self._preload = preload
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    @property
    def child_pids(self) -> list[int]:
        return [c.process.pid for c in [*self._idle, *self._busy]]

    async def run(self, func: Callable[..., Any], *args: Any, budget_seconds: float | None = None) -> Any:
        """func(*args) in a child. Raises BudgetExceeded, ChildDied, or what func raised."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            if self._closed:
                raise RuntimeError("the process pool is closed")
            child = self._take_idle() or await anyio.to_thread.run_sync(self._spawn)
            self._busy.add(child)
            try:
                kind, value = await anyio.to_thread.run_sync(
                    _exchange, child, (func, args), budget_seconds or self.budget_seconds, abandon_on_cancel=True)
            except BaseException:
                # Timed out, died, or the caller was cancelled (a deleted document): the child
                # may still be busy with a hostile input, so it goes, whatever state it is in.
                # Killed right here, not in a thread: a second cancellation must not skip it.
                child.kill()
                raise
            finally:
                self._busy.discard(child)
            child.last_used = time.monotonic()
            self._idle.append(child)
        if kind == "raised":
            raise value
        return value

    def _take_idle(self) -> _Child | None:
        """An idle child still alive (one killed from outside must not fail the next document)."""
        while self._idle:
            child = self._idle.pop()
            if child.process.is_alive():
                return child
            child.conn.close()
            child.process.join(0)
        return None

    def _spawn(self) -> _Child:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(target=child_main, args=(child_end, self._preload),
                                        name="modelpilot-reader", daemon=True)
        process.start()
        child_end.close()
        child = _Child(process, parent_end)
        if not parent_end.poll(START_TIMEOUT_SECONDS):
            child.kill()
            raise ChildDied(None)
        try:
            parent_end.recv()
        except (EOFError, OSError):
            child.kill()
            raise ChildDied(process.exitcode) from None
        return child

    def reap_idle(self) -> int:
        """Stop children unused for idle_seconds, giving their memory back; returns how many."""
        cutoff = time.monotonic() - self.idle_seconds
        stale = [c for c in self._idle if c.last_used < cutoff]
        self._idle = [c for c in self._idle if c.last_used >= cutoff]
        for child in stale:
            child.conn.close()
            child.kill()  # idle, so nothing is lost; quicker than waiting for it to see EOF
        return len(stale)

    async def close(self) -> None:
        self._closed = True
        children = [*self._idle, *self._busy]
        for child in self._idle:
            child.conn.close()
        for child in children:
            await anyio.to_thread.run_sync(child.kill)
        self._idle, self._busy = [], set()


def _exchange(child: _Child, request: tuple, budget: float) -> tuple[str, Any]:
    """In a worker thread: send one request and wait at most `budget` seconds for the answer."""
    started = time.monotonic()
    try:
        child.conn.send(request)
        if not child.conn.poll(budget):
            raise BudgetExceeded(budget)
        return child.conn.recv()
    except (EOFError, OSError) as exc:
        child.conn.close()
        child.process.join(1)
        if time.monotonic() - started >= budget:
            raise BudgetExceeded(budget) from None
        raise ChildDied(child.process.exitcode) from exc
    except BaseException:
        child.conn.close()
        raise
