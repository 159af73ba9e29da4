"""How uvicorn serves the app: one configuration for `modelpilot serve` and the test servers,
with limits on what one connection may make the server hold.

uvicorn's httptools protocol has no bound on the request line and headers (llhttp keeps
accumulating them) and no time limit on receiving them or a body: one client could hold
memory with endless headers, or connections with a byte every few seconds. The protocol here
adds a size limit on the request head (431), a deadline for the head (408) and a longest
pause inside a body (408); a connection refused this way is closed.

It also holds less per connection, which an open event stream keeps for hours: uvicorn gives
every connection a deque (its pipeline) and an asyncio.Event (flow control), and every request
another Event. An empty deque costs ~0.75 KB and an Event ~0.85 KB (mostly its own deque); here
they are a slotted flag and a list-backed pipeline, ~0.05 KB each, with the same behaviour.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from modelpilot.core.errors import error_body


class Flag:
    """asyncio.Event's behaviour (set, clear, is_set, wait; every waiter woken by set) in a slotted
    object whose waiters list exists only while someone waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        for waiter in self._waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self._waiters.remove(waiter)  # still the list it was added to: only this finally empties it
            if not self._waiters:
                self._waiters = None


class Pipeline:
    """The queue of pipelined requests uvicorn keeps per connection (appendleft, pop, truth), on a
    list created only when a request is actually pipelined (rare: browsers do not pipeline)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list | None = None

    def appendleft(self, item: Any) -> None:
        if self._items is None:
            self._items = []
        self._items.insert(0, item)

    def pop(self) -> Any:
        if not self._items:
            raise IndexError("pop from an empty pipeline")
        item = self._items.pop()
        if not self._items:
            self._items = None
        return item

    def __len__(self) -> int:
        return len(self._items) if self._items else 0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with head size, head time and body idle limits (class attributes,
    set per server by `guarded_protocol`)."""

    # Our fields in slots: uvicorn's own live in the instance dict, which then need not grow
    # for ours (one per open connection, an idle event stream's included).
    __slots__ = ("_in_head", "_head_bytes", "_head_timer", "_body_timer", "_last_body_at", "_refused")

    max_header_bytes = 32_768
    header_timeout = 20.0
    body_timeout = 60.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline = Pipeline()  # type: ignore[assignment]  # uvicorn's deque, leaner
        self._in_head = True  # reading a request line and headers (or waiting for one)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._last_body_at = 0.0
        self._refused = False

    # -- connection -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow._is_writable_event = Flag(self.flow._is_writable_event.is_set())  # type: ignore[assignment]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            room = self.max_header_bytes - self._head_bytes
            if len(data) > room:
                # Feed only what fits: if the head has not ended inside it, it is too large.
                self._feed(data[:room])
                if self._in_head and not self._refused:
                    self._refuse(431, "headers_too_large", "The request line and headers are larger than "
                                 f"{self.max_header_bytes} bytes.")
                    return
                data = data[room:]
            else:
                self._head_bytes += len(data)
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        """uvicorn's data_received, minus its 400 for a parse error we caused by refusing."""
        if self._refused or not data:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if not self._refused:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    # -- parser callbacks -------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel(self._head_timer)
        self._head_timer = None
        self._last_body_at = self.loop.time()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_timeout_check)
        super().on_headers_complete()
        cycle = self.cycle
        # The request's cycle was just made (its task has not run: nobody waits on the event yet).
        if cycle is not None and type(cycle.message_event) is asyncio.Event:
            cycle.message_event = Flag(cycle.message_event.is_set())  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        self._last_body_at = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel(self._body_timer)
        self._body_timer = None
        self._in_head, self._head_bytes = True, 0
        super().on_message_complete()

    # -- timers -----------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_bytes == 0:
            # Nothing sent yet (an idle or pre-opened connection): close without an answer a
            # client could mistake for the reply to its next request.
            self.transport.close()
            return
        self._refuse(408, "request_timeout", f"The request headers did not arrive within "
                     f"{self.header_timeout:g} seconds.")

    def _body_timeout_check(self) -> None:
        self._body_timer = None
        idle = self.loop.time() - self._last_body_at
        # Reading paused by flow control, or a 100-continue not yet sent, waits for the app: the
        # client is not the one pausing.
        waiting_for_app = self.flow.read_paused or (self.cycle is not None and self.cycle.waiting_for_100_continue)
        if idle < self.body_timeout or waiting_for_app:
            self._body_timer = self.loop.call_later(max(self.body_timeout - idle, 0.5), self._body_timeout_check)
            return
        self._refuse(408, "request_timeout", f"The request body stopped arriving for {self.body_timeout:g} seconds.")

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            self._cancel(timer)
        self._head_timer = self._body_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    # -- answering --------------------------------------------------------------------------
    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer (unless a response is already under way) and close the connection."""
        self._refused = True
        self._cancel_timers()
        cycle = self.cycle
        # In a body: answer unless the app already began its response. Before a head: answer
        # only when the previous response is finished, so two answers never interleave.
        may_answer = cycle is None or cycle.response_complete or (not self._in_head and not cycle.response_started)
        if may_answer and not self.transport.is_closing():
            body = json.dumps(error_body(code, message)).encode()
            reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
            head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                    b"connection: close\r\n\r\n" % (status, reason, len(body)))
            self.transport.write(head + body)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's receive() now reports a disconnect
            self.cycle.message_event.set()
        self.transport.close()


def guarded_protocol(max_header_bytes: int, header_timeout: float, body_timeout: float) -> type:
    """A protocol class carrying these limits (uvicorn instantiates the class per connection)."""
    return type("ModelPilotHttpProtocol", (GuardedHttpToolsProtocol,), {
        "max_header_bytes": max_header_bytes, "header_timeout": header_timeout, "body_timeout": body_timeout})


def uvicorn_config(app: Any, settings: Any, **overrides: Any) -> uvicorn.Config:
    """The server configuration of `modelpilot serve`; tests pass log level and shutdown overrides."""
    options: dict[str, Any] = dict(
        # log_config=None: uvicorn's own lines go through our handler (text or JSON, request ids).
        log_level=settings.log_level, log_config=None, access_log=False, server_header=False,
        proxy_headers=False, loop="auto", lifespan="on", timeout_graceful_shutdown=10,
        # Longer than the idle timeout of common proxies and load balancers (60 s): if the server
        # closed an idle connection first, a request racing the close would fail (a 502 behind a
        # proxy, a reset for a client); uvicorn's default of 5 s made that happen under load.
        timeout_keep_alive=75,
        http=guarded_protocol(settings.max_header_bytes, settings.header_timeout_seconds,
                              settings.body_timeout_seconds),
    )
    options.update(overrides)
    return uvicorn.Config(app, **options)
