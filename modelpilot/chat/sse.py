"""Server-sent events: an async iterator of event dicts as a Litestar streaming response."""

from __future__ import annotations

import asyncio
import re
from typing import Any, AsyncIterator, Awaitable, Callable

import anyio
import msgspec
from litestar.datastructures import State
from litestar.response import Stream
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from modelpilot.core.db import Database
from modelpilot.core.events import EventBus
from modelpilot.core.ratelimit import Throttle
from modelpilot.settings import Settings

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode


def turn_runtime(state: State) -> tuple[Database, Settings, EventBus, Throttle]:
    """What a streamed chat turn needs from the app's state (the dashboard's and the widget's chat
    routes), read here rather than as four dependencies:
    Litestar resolves two or more dependencies of one level concurrently, in an anyio task group
    with a task each, and on a chat route that was about 0.3 ms of server CPU per turn (a tenth of
    it) before the first byte. The routes' authorization (`access`, the widget's admission) stays theirs."""
    return state["db"], state["settings"], state["events"], state["throttle"]


def sse_line(event: dict) -> bytes:
    return b"data: " + _encode(event) + b"\n\n"


async def _frames(first: dict, events: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    try:
        yield sse_line(first)
        async for event in events:
            yield sse_line(event)
    finally:
        # Close the inner generator now (not at garbage collection) so its clean-up, which
        # saves the turn, runs even when the client went away mid-stream.
        closer = getattr(events, "aclose", None)
        if closer is not None:
            with anyio.CancelScope(shield=True):
                await closer()


async def _until_disconnect(receive: Callable[[], Awaitable[Any]]) -> None:
    while (await receive()).get("type") != "http.disconnect":
        pass


async def first_event(iterator: AsyncIterator[dict], receive: Callable[[], Awaitable[Any]] | None) -> dict | None:
    """The first event, or None when the client went away before it came: the events are then
    cancelled, so their clean-up runs at once (the turn is saved, its quota hold given back)."""
    if receive is None:
        return await iterator.__anext__()
    outcome: dict[str, Any] = {}
    async with anyio.create_task_group() as group:
        async def take() -> None:
            try:
                outcome["first"] = await iterator.__anext__()
            except Exception as exc:  # re-raised below as itself, not wrapped in a task-group error
                outcome["error"] = exc
            group.cancel_scope.cancel()

        async def watch() -> None:
            await _until_disconnect(receive)
            group.cancel_scope.cancel()

        group.start_soon(take)
        group.start_soon(watch)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("first")


async def sse_response(events: AsyncIterator[dict], receive: Callable[[], Awaitable[Any]] | None = None) -> Stream:
    """Start the event source and return the stream.

    The first event is awaited before any header goes out, so a refusal raised during the
    pre-flight checks (ApiError: unknown model, bad message, quota) is a plain HTTP error.
    Pass the request's `receive` so a client that leaves during that wait is noticed.
    """
    iterator = events.__aiter__()
    try:
        first = await first_event(iterator, receive)
    except StopAsyncIteration:
        first = {"error": {"code": "empty_reply", "message": "No answer was produced."}}
    if first is None:
        first = {"error": {"code": "client_gone", "message": "The request ended before the answer began."}}
    return Stream(_frames(first, iterator), media_type="text/event-stream", headers=SSE_HEADERS)


class LiveStream(Stream):
    """A long-lived event stream (the widget's and the inbox's live events) with a lean send loop.

    Behind `detach_live_streams` (the app's outermost layer) the route's checks run as usual,
    the head goes out through every middleware, and then the frames are handed to that layer,
    which writes them after Litestar's request, response, dependencies and the middlewares'
    frames are gone: for the stream's life only the frames, the connection and one
    disconnect watcher remain. Without that layer (a bare app) the frames are written here.
    Status, headers and cookies are Litestar's either way.
    """

    __slots__ = ()

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        return _LiveASGI(super().to_asgi_response(*args, **kwargs))


class _Detached:
    """Where a live response leaves its frames for `detach_live_streams` to write."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: AsyncIterator[bytes] | None = None


DETACH_KEY = "modelpilot.live_detach"
LIVE_PATHS = re.compile(r"/api/v1/(?:widget|workspaces)/[^/]+/events")


class _LiveASGI:
    __slots__ = ("response",)

    def __init__(self, response: Any) -> None:
        self.response = response  # Litestar's ASGIStreamingResponse: head, body iterator, background

    async def __call__(self, scope: Any, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        response, self.response = self.response, None
        await response.start_response(send=send)
        frames, background, head_only = response.iterator, response.background, response.is_head_response
        del response
        detached = scope.get(DETACH_KEY)
        if detached is not None and background is None and not head_only:
            detached.frames = frames  # written by detach_live_streams once Litestar has returned
            return
        # Keep only what the body needs: the request's parsed headers (Litestar re-reads them
        # from the scope if anything asks again) would otherwise stay alive as long as the stream.
        ScopeState.from_scope(scope).headers = Empty
        if head_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await send_until_disconnect(frames, send, receive)
        if background is not None:
            await background()


def detach_live_streams(app: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The app's outermost layer: a GET of a live stream route runs through the app (every check,
    every middleware) on a copy of its scope; a LiveStream answer leaves its frames here, and
    they are written once the app has returned, so nothing of the request's handling stays
    alive as long as the stream does. Any other answer (a 4xx) passes through unchanged."""

    async def lean(scope: Any, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not LIVE_PATHS.fullmatch(scope.get("path", "")):
            await app(scope, receive, send)
            return
        frames = await _checked(app, scope, receive, send)
        if frames is None:
            return
        # The request's headers (cookies, tokens) were read by the checks; the server keeps this
        # list for the connection's life, and nothing reads it again.
        headers = scope.get("headers")
        if isinstance(headers, list):
            headers.clear()
        await send_until_disconnect(frames, send, receive)

    return lean


async def _checked(app: Callable[..., Awaitable[None]], scope: Any, receive: Callable[[], Awaitable[Any]],
                   send: Callable[[Any], Awaitable[None]]) -> AsyncIterator[bytes] | None:
    """Run the app for the route's checks; the live frames, or None when the app answered itself.
    The response's head is held back until it is known which: it goes out before any body."""
    detached, head = _Detached(), []

    async def hold_head(message: Any) -> None:
        if message["type"] == "http.response.start":
            head.append(message)
            return
        if head:
            await send(head.pop())
        await send(message)

    inner = {**scope, "state": dict(scope.get("state") or {}), DETACH_KEY: detached}
    await app(inner, receive, hold_head)
    if head:
        await send(head.pop())
    return detached.frames


class _Watch:
    """The one task of a live stream besides its writer: `receive()` itself, awaited until the
    client disconnects, which cancels the writer (a slotted object, not closures and cells)."""

    __slots__ = ("writer", "receive", "gone", "pending")

    def __init__(self, writer: asyncio.Task, receive: Callable[[], Awaitable[Any]]) -> None:
        self.writer, self.receive, self.gone = writer, receive, False
        self.pending: asyncio.Future | None = None

    def start(self) -> None:
        self.pending = asyncio.ensure_future(self.receive())
        self.pending.add_done_callback(self._arrived)

    def _arrived(self, pending: asyncio.Future) -> None:
        if pending.cancelled():
            return
        failed = pending.exception()  # a failing receive also ends the stream (retrieved: no warning)
        if failed is None and pending.result().get("type") != "http.disconnect":
            self.start()  # a part of a request body: listen on
            return
        self.gone = True
        self.writer.cancel()

    def stop(self) -> None:
        if self.pending is not None:
            self.pending.remove_done_callback(self._arrived)
            self.pending.cancel()
            self.pending = None


async def send_until_disconnect(frames: AsyncIterator[bytes], send: Callable[[Any], Awaitable[None]],
                                receive: Callable[[], Awaitable[Any]]) -> None:
    """Write every frame; stop (closing the frames at once) when the client disconnects."""
    writer = asyncio.current_task()
    assert writer is not None
    watch = _Watch(writer, receive)
    watch.start()
    try:
        try:
            async for chunk in frames:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watch.stop()
            closer = getattr(frames, "aclose", None)
            if closer is not None:
                await closer()
    except asyncio.CancelledError:
        if not watch.gone:
            raise
        writer.uncancel()  # our own cancel, for the disconnect: the response simply ends
