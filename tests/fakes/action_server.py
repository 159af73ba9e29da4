"""A small HTTP service on 127.0.0.1 for HTTP actions to call: records what arrives.

  /orders/<anything>   200 JSON naming the raw path it was asked for
  /echo-headers        200 JSON of every header received (a careless service echoing secrets)
  /slow                answers after 5 s (longer than an action's 1 s timeout)
  /big                 200 with 100 KB of text
  /fail                500 with a short JSON error
  anything else        200 JSON {"ok": true, "path": ...}
`requests` keeps (method, raw path with query, headers, body) of each call, in order.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

BIG_BYTES = 100_000


class ActionService:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw = scope["raw_path"].decode() + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"method": scope["method"], "path": raw, "headers": headers,
                              "body": body.decode(errors="replace")})
        await self._answer(scope["path"], raw, headers, send)

    async def _answer(self, path: str, raw: str, headers: dict, send) -> None:
        if path == "/slow":
            await asyncio.sleep(5)
            return await _reply(send, 200, b'{"late": true}')
        if path == "/big":
            return await _reply(send, 200, b"x" * BIG_BYTES, b"text/plain")
        if path == "/fail":
            return await _reply(send, 500, b'{"error": "the service fell over"}')
        if path == "/echo-headers":
            return await _reply(send, 200, json.dumps(headers).encode())
        if path.startswith("/orders/"):
            return await _reply(send, 200, json.dumps({"order": raw, "status": "shipped"}).encode())
        return await _reply(send, 200, json.dumps({"ok": True, "path": raw}).encode())


async def _reply(send, status: int, payload: bytes, kind: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


@dataclass
class RunningActionService:
    url: str  # http://127.0.0.1:PORT
    app: ActionService
    server: uvicorn.Server
    thread: threading.Thread = field(repr=False)

    @property
    def requests(self) -> list[dict]:
        return self.app.requests

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_action_service() -> RunningActionService:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    app = ActionService()
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="on",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="action-service")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("action service did not start")
        time.sleep(0.01)
    return RunningActionService(f"http://127.0.0.1:{sock.getsockname()[1]}", app, server, thread)


if __name__ == "__main__":  # `python -m tests.fakes.action_server`: prints its base URL, serves until killed
    running = start_action_service()
    print(running.url, flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
