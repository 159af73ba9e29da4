"""Default security headers, chosen by the kind of response.

A route that sets a header itself (the dashboard's static route sets its own CSP) wins: this
middleware only fills in headers a response does not already have.

- widget (`/widget.js`, `/widget-*.js`, `/api/v1/widget/...`): runs inside customers' pages, so no
  frame-ancestors and no X-Frame-Options; only nosniff, and a cross-origin resource policy
  so the script may be loaded from any site.
- API, health, metrics, schema: JSON that should never render as a document anywhere.
- `/api/docs` is a dashboard page (the API reference) that happens to live under /api/: it
  gets the dashboard's policy, which lets its own script and style load from this origin only.
- everything else is the dashboard: same-origin only, never framed.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

WIDGET_PREFIXES = ("/widget.js", "/widget-", "/api/v1/widget/")  # the loader, its lazy parts, its API
API_PREFIXES = ("/api/", "/healthz", "/metrics", "/schema")
DASHBOARD_UNDER_API = ("/api/docs",)

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

WIDGET_HEADERS = {
    "x-content-type-options": "nosniff",
    "cross-origin-resource-policy": "cross-origin",
}
API_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": API_CSP,
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
DASHBOARD_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": DASHBOARD_CSP,
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = ("strict-transport-security", "max-age=31536000")


def headers_for_path(path: str) -> dict[str, str]:
    if path.startswith(WIDGET_PREFIXES):
        return WIDGET_HEADERS
    if path in DASHBOARD_UNDER_API:
        return DASHBOARD_HEADERS
    if path.startswith(API_PREFIXES):
        return API_HEADERS
    return DASHBOARD_HEADERS


def security_headers_middleware(app: ASGIApp, *, hsts: bool = False) -> ASGIApp:
    """hsts: send Strict-Transport-Security (only when the public URL is https)."""

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        defaults = dict(headers_for_path(scope.get("path", "")))
        if hsts:
            defaults[HSTS[0]] = HSTS[1]

        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(key).lower() for key, _ in headers}
                headers.extend((name.encode(), value.encode()) for name, value in defaults.items()
                               if name.encode() not in present)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_defaults)

    return with_headers
