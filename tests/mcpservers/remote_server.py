"""A real MCP server for the tests, built with the official `mcp` SDK's server side (MCPServer,
Streamable HTTP), served by uvicorn on 127.0.0.1 in a thread.

Its tools: `echo` (returns its arguments), `fail` (the tool reports an error: isError), `slow`
(sleeps, to outlast a caller's timeout), `huge` (a text far over any cap), `picture` (an image,
which must be summarised, not pasted), `whoami` (echoes the credentials it got), `wordy` (a
3 KB description) and `bloated` (a 40 KB input schema). Every HTTP request's headers are
recorded as the server received them, and the server can be told to require a bearer token, to
stall every request, or to speak only the handshake-era protocol (no `server/discover`, as
servers before 2026 do).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from typing import Annotated

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ImageContent, TextContent, ToolAnnotations
from pydantic import Field

from tests.support import free_port


def build_tools(mcp: MCPServer, prefix: str = "") -> None:
    @mcp.tool(name=prefix + "echo", description="Repeat the arguments back as JSON.",
              annotations=ToolAnnotations(read_only_hint=True))
    def echo(text: str, times: int = 1) -> str:
        return json.dumps({"text": text, "times": times, "echo": text * times})

    @mcp.tool(name=prefix + "fail", description="Always fails, with a reason the model can read.")
    def fail(order_id: str) -> str:
        raise ToolError(f"Order {order_id} does not exist")

    @mcp.tool(name=prefix + "slow", description="Waits for the given number of seconds.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "finally"

    @mcp.tool(name=prefix + "huge", description="Returns a very long text.")
    def huge(size: int) -> str:
        return ("0123456789" * (size // 10 + 1))[:size]

    @mcp.tool(name=prefix + "whoami", description="Echoes the credentials it was sent (a careless server).")
    def whoami(ctx: Context, fail: bool = False) -> str:
        sent = (ctx.headers or {}).get("authorization", "nothing")
        if fail:
            raise ToolError(f"The key {sent} is revoked")
        return f"You sent {sent}; your token is {sent.partition(' ')[2]}"

    @mcp.tool(name=prefix + "wordy", description="Does little, described at length. " * 100)
    def wordy() -> str:
        return "ok"

    @mcp.tool(name=prefix + "bloated", description="Its schema is larger than any prompt should carry.")
    def bloated(x: Annotated[str, Field(description="padding " * 5000)] = "") -> str:
        return x

    @mcp.tool(name=prefix + "picture", description="Returns a caption and a tiny image.")
    def picture() -> list:
        return [TextContent(text="A red dot:"),
                ImageContent(data=base64.b64encode(b"\x89PNG fake").decode(), mime_type="image/png")]


class RemoteMcp:
    def __init__(self, prefix: str = "") -> None:
        self.requests: list[dict[str, str]] = []   # headers of every HTTP request, as received
        self.required_token: str | None = None      # when set, requests without it get 401
        self.stall_seconds = 0.0                    # every request waits this long first
        self.legacy_only = False                    # refuse server/discover: a pre-2026 server
        mcp = MCPServer("test-tools", log_level="WARNING")
        build_tools(mcp, prefix)
        self.port = free_port()
        config = uvicorn.Config(self._guard(mcp.streamable_http_app()), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test MCP server did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def localhost_url(self) -> str:
        return f"http://localhost:{self.port}/mcp"

    def _guard(self, app):
        remote = self

        async def guarded(scope, receive, send):
            if scope["type"] == "http":
                headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                remote.requests.append(headers)
                if remote.stall_seconds:
                    await remote._stall()
                if remote.legacy_only and headers.get("mcp-method") == "server/discover":
                    body = b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": "Method not found"}}'
                    await send({"type": "http.response.start", "status": 404,
                                "headers": [(b"content-type", b"application/json")]})
                    await send({"type": "http.response.body", "body": body})
                    return
                if remote.required_token and headers.get("authorization") != f"Bearer {remote.required_token}":
                    await send({"type": "http.response.start", "status": 401,
                                "headers": [(b"content-type", b"text/plain")]})
                    await send({"type": "http.response.body", "body": b"unauthorized"})
                    return
            await app(scope, receive, send)
        return guarded

    async def _stall(self) -> None:
        """Wait stall_seconds, or until the server stops (so tests do not wait out a stall)."""
        deadline = time.monotonic() + self.stall_seconds
        while time.monotonic() < deadline and not self._server.should_exit:
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
