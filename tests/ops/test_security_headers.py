"""Security headers: strict on the dashboard and API, only what is needed on widget routes."""

from __future__ import annotations

import anyio
import httpx
import pytest

from modelpilot.core.secheaders import security_headers_middleware
# One server for the module: these tests only read headers.
from tests.shared_server import server  # noqa: F401 (a module-scoped fixture)


def test_api_responses_can_never_render_or_be_framed(api) -> None:
    headers = api.get("/api/v1/auth/setup").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in headers  # plain http: HSTS would be a lie


def test_dashboard_pages_are_same_origin_and_never_framed(api) -> None:
    headers = api.get("/some/dashboard/page").headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/widget.js", "/widget-chat.js", "/api/v1/widget/some-bot/config"])
def test_widget_routes_stay_embeddable(api, path: str) -> None:
    headers = api.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in headers
    assert "frame-ancestors" not in headers.get("content-security-policy", "")
    assert headers["cross-origin-resource-policy"] == "cross-origin"


def test_hsts_behind_an_https_public_url(server_factory) -> None:
    live = server_factory(public_url="https://chat.example.com")
    response = httpx.get(f"http://127.0.0.1:{live.settings.port}/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_header_the_route_set_itself_wins() -> None:
    async def route(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"Content-Security-Policy", b"default-src 'self' https://cdn.example")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = []

    async def send(message) -> None:
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    app = security_headers_middleware(route)
    anyio.run(app, {"type": "http", "path": "/", "headers": []}, receive, send)
    headers = sent[0]["headers"]
    csp = [v for k, v in headers if k.lower() == b"content-security-policy"]
    assert csp == [b"default-src 'self' https://cdn.example"]
    assert (b"x-frame-options", b"DENY") in headers
