"""CSRF defence for cookie sessions: unsafe requests must come from our own origin.

Browsers send Sec-Fetch-Site (and Origin on POST/PUT/PATCH/DELETE); a cross-site form or fetch
cannot forge them. Requests that carry no session cookie (bearer tokens, the widget, Stripe)
have no ambient authority to abuse and pass through, with two exceptions:
- routes that hand out a session (login, sign-up, setup, accepting an invitation) are checked
  even without a cookie: a cross-site form could otherwise log the victim into the attacker's
  account ("login CSRF") and collect whatever they type there;
- only a workspace API token (`Bearer mp_...`) exempts a cookie request, because only then is
  the cookie ignored; any other Authorization header leaves the cookie in charge.
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


def _api_token_request(scope: Scope, token_prefix: str) -> bool:
    scheme, _, value = _header(scope, b"authorization").partition(" ")
    return scheme.lower() == "bearer" and value.strip().startswith(token_prefix)


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


def csrf_middleware_factory(cookie_name: str, public_url: str, exempt_prefixes: tuple[str, ...], *,
                            session_prefixes: tuple[str, ...] = (), token_prefix: str = "mp_"):
    """exempt_prefixes: never checked; session_prefixes: checked with or without a cookie."""
    allowed = {public_url.rstrip("/")} if public_url else set()
    if public_url:
        parts = urlsplit(public_url)
        allowed.add(f"{parts.scheme}://{parts.netloc}")

    def must_check(scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"].startswith(exempt_prefixes):
            return False
        if scope["path"].startswith(session_prefixes):
            return True
        return _has_cookie(scope, cookie_name) and not _api_token_request(scope, token_prefix)

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            if must_check(scope) and not same_origin(scope, allowed):
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
