"""CSRF defence for cookie sessions: unsafe requests must come from our own origin.

Browsers send Sec-Fetch-Site (and Origin on POST/PUT/PATCH/DELETE); a cross-site form or fetch
cannot forge them. Requests that carry no session cookie (bearer tokens, the widget, Stripe)
have no ambient authority to abuse and pass through.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.types import ASGIApp, Receive, Scope, Send

from modelpilot.core.errors import error_body

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _has_cookie(scope: Scope, cookie_name: str) -> bool:
    cookies = _header(scope, b"cookie")
    return any(part.strip().startswith(cookie_name + "=") for part in cookies.split(";"))


def same_origin(scope: Scope, allowed_origins: set[str]) -> bool:
    site = _header(scope, b"sec-fetch-site")
    if site:
        return site in {"same-origin", "none"}
    origin = _header(scope, b"origin")
    if origin:
        return origin.rstrip("/") in allowed_origins or origin.rstrip("/") == _request_origin(scope)
    # Neither header: not a browser (curl, scripts). A browser always sends one of them on an
    # unsafe request, so a forged cross-site request cannot arrive like this.
    return True


def _request_origin(scope: Scope) -> str:
    host = _header(scope, b"host")
    scheme = scope.get("scheme", "http")
    return f"{scheme}://{host}" if host else ""


def csrf_middleware_factory(cookie_name: str, public_url: str, exempt_prefixes: tuple[str, ...]):
    allowed = {public_url.rstrip("/")} if public_url else set()
    if public_url:
        parts = urlsplit(public_url)
        allowed.add(f"{parts.scheme}://{parts.netloc}")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and scope["method"] not in SAFE_METHODS
                and not scope["path"].startswith(exempt_prefixes)
                and _has_cookie(scope, cookie_name)
                and not _header(scope, b"authorization")
                and not same_origin(scope, allowed)
            ):
                await _refuse(send)
                return
            await app(scope, receive, send)

        return guard

    return middleware


async def _refuse(send: Send) -> None:
    import json

    body = json.dumps(error_body("csrf_refused", "Cross-site request refused.")).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
