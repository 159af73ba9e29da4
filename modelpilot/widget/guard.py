"""Who may talk to a widget bot: Origin against the bot's allowed origins, CORS grants,
per-address and per-session rate limits, and the salted hash that stands in for an address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from urllib.parse import urlsplit

from modelpilot.core.errors import ApiError
from modelpilot.core.ratelimit import Limit, MemoryThrottle, Throttle
from modelpilot.settings import Settings

DEFAULT_PORTS = {"http": 80, "https": 443}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID, X-ModelPilot-Identity",
    "Access-Control-Max-Age": "600",
}


def normalize_origin(value: str) -> str:
    """`HTTPS://Example.com:443/` -> `https://example.com`; '' for anything not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_allowed(origin: str, allowed_origins: list[str]) -> bool:
    """A bot with no allowed origins is embeddable anywhere (the dashboard warns about it).

    A request without an Origin header is not from a browser page on another site: anything
    that is not a browser can send whatever Origin it likes, so refusing it would stop no one.
    The check exists to keep other sites' pages from embedding the bot, and those always send one.
    """
    if not allowed_origins or not origin:
        return True
    wanted = normalize_origin(origin)
    return bool(wanted) and wanted in {normalize_origin(item) for item in allowed_origins}


def cors_headers(origin: str) -> dict[str, str]:
    # No credentials: the widget sends no cookies, its session id travels in the request.
    headers = {"Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def origin_refused() -> ApiError:
    return ApiError(403, "origin_not_allowed", "This chatbot is not available on this website.")


def rate_limited(wait: int, message: str) -> ApiError:
    return ApiError(429, "rate_limited", message, headers={"Retry-After": str(wait)})


class VisitorHasher:
    """HMAC of a visitor address under a random salt that lives only in memory and changes
    every UTC day: stored hashes cannot be reversed by hashing every address, even by someone
    holding the database, and cannot be linked across days."""

    def __init__(self) -> None:
        self._day = ""
        self._salt = b""

    def hash(self, address: str, now: datetime | None = None) -> str:
        day = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d")
        if day != self._day:
            self._day, self._salt = day, secrets.token_bytes(32)
        return hmac.new(self._salt, address.encode(), hashlib.sha256).hexdigest()[:32]


class WidgetLimits:
    """Per-visitor sliding windows for all widget routes, counted by `throttle`: this process's
    memory on one SQLite node, the database for a Postgres fleet."""

    def __init__(self, settings: Settings, throttle: Throttle | None = None) -> None:
        self.throttle = throttle or MemoryThrottle()
        self.ip_messages = Limit("widget.ip_messages", settings.widget_ip_messages_per_minute, 60)
        self.session_messages = Limit("widget.session_messages", settings.widget_session_messages_per_minute, 60)
        self.ip_requests = Limit("widget.ip_requests", settings.widget_ip_requests_per_minute, 60)

    async def check_request(self, address: str) -> None:
        wait = await self.throttle.take((self.ip_requests, address))
        if wait:
            raise rate_limited(wait, "Too many requests from your address. Please wait a moment.")

    async def check_message(self, address: str, bot_id: str, session_id: str) -> None:
        wait = await self.throttle.take((self.ip_messages, address), (self.session_messages, f"{bot_id}:{session_id}"))
        if wait:
            raise rate_limited(wait, "Too many messages. Please wait a moment before sending another.")
