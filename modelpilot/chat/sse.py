"""Server-sent events: an async iterator of event dicts as a Litestar streaming response."""

from __future__ import annotations

from typing import AsyncIterator

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


async def sse_response(events: AsyncIterator[dict]) -> Stream:
    """Start the event source and return the stream.

    The first event is awaited before any header goes out, so a refusal raised during the
    pre-flight checks (ApiError: unknown model, bad message, quota) is a plain HTTP error.
    """
    iterator = events.__aiter__()
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        first = {"error": {"code": "empty_reply", "message": "No answer was produced."}}
    return Stream(_frames(first, iterator), media_type="text/event-stream", headers=SSE_HEADERS)
