"""With a public URL set, answer only for its host (and loopback names, for local tools).

A fresh instance on a public address is found by scanners that speak to the bare IP; a page on
another site can reach a private one by DNS rebinding (its own name resolving to our address).
Both send a Host that is not ours. Health checks and metrics are exempt: load balancers and
scrapers often address a node by its IP, and neither answer holds anything to protect.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from litestar.types import ASGIApp, Receive, Scope, Send

from modelpilot.core.clientip import host_name, is_loopback_host
from modelpilot.core.errors import error_body

EXEMPT_PATHS = ("/healthz", "/metrics")


def host_guard_middleware(app: ASGIApp, public_url: str) -> ASGIApp:
    if not public_url:
        return app
    public_host = (urlsplit(public_url).hostname or "").lower()

    def allowed(scope: Scope) -> bool:
        if scope["type"] not in {"http", "websocket"} or scope.get("path", "") in EXEMPT_PATHS:
            return True
        host = next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == b"host"), "")
        name = host_name(host)
        return name == public_host or is_loopback_host(name)

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if allowed(scope):
            await app(scope, receive, send)
            return
        body = json.dumps(error_body("unknown_host", f"This server answers for {public_host} only "
                                     "(MODELPILOT_PUBLIC_URL); use that address.")).encode()
        await send({"type": "http.response.start", "status": 421,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    return guard
