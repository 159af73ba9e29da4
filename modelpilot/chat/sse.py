"""Server-sent events: an async iterator of event dicts as a Litestar streaming response."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable

import anyio
import msgspec
from litestar.response import Stream

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode


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


async def _first_event(iterator: AsyncIterator[dict], receive: Callable[[], Awaitable[Any]] | None) -> dict | None:
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
        first = await _first_event(iterator, receive)
    except StopAsyncIteration:
        first = {"error": {"code": "empty_reply", "message": "No answer was produced."}}
    if first is None:
        first = {"error": {"code": "client_gone", "message": "The request ended before the answer began."}}
    return Stream(_frames(first, iterator), media_type="text/event-stream", headers=SSE_HEADERS)
