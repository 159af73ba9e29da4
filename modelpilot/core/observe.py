"""Request observation: an X-Request-ID on every request, one access-log line, HTTP metrics.

This wraps the whole Litestar handler (router included), so 404s and 405s are counted too.
The route label is Litestar's path template (`/api/v1/workspaces/{ws}`), never the raw path:
raw paths hold ids and would make one series per object.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from modelpilot.core import metrics
from modelpilot.core.logs import request_id_var

log = logging.getLogger("modelpilot.access")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id (from a proxy or a client) is kept only if it is short and plain, so it can
# neither break a log line nor smuggle a header.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED = "unmatched"


def _incoming_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _SAFE_ID.match(text) else None
    return None


def _route_of(scope: Scope) -> str:
    template = scope.get("path_template")
    return template if isinstance(template, str) and template else UNMATCHED


def _logged_path(scope: Scope, route: str) -> str:
    # Secrets travel in some paths (invitation tokens): log the template there, not the value.
    if route == UNMATCHED:
        return scope.get("path", "")[:200]
    return route if "{token" in route else scope.get("path", "")


def observe_middleware(app: ASGIApp, client_ip=None) -> ASGIApp:
    """client_ip(scope) -> str, to name the client in the log (trusted-proxy aware)."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state = {"status": 0, "bytes": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # The client went away before we answered (nginx calls this 499).
            state["status"] = state["status"] or 499
            raise
        finally:
            state["status"] = state["status"] or 500
            _finish(scope, state, time.perf_counter() - started, request_id, client_ip)
            request_id_var.reset(token)

    return observed


def _finish(scope: Scope, state: dict, seconds: float, request_id: str, client_ip) -> None:
    route = _route_of(scope)
    method = scope.get("method", "")
    status = state["status"]
    metrics.record_request(method, route, status, seconds)
    path = _logged_path(scope, route)
    client = client_ip(scope) if client_ip else (scope.get("client") or ("",))[0]
    duration_ms = round(seconds * 1000, 1)
    log.info("%s %s %s %.1fms", method, path, status, duration_ms,
             extra={"request_id": request_id, "method": method, "route": route, "path": path,
                    "status": status, "duration_ms": duration_ms, "client": client, "bytes": state["bytes"]})
