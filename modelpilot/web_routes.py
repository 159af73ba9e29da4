"""Serves the static dashboard (web/) at `/`: index.html, its CSS, ES modules and images.

No build step: files go out as they are on disk, with an ETag from their content so a browser
revalidates cheaply, and a strict Content-Security-Policy so no inline script or foreign
origin can ever run inside the admin pages.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, get

from modelpilot import __version__
from modelpilot.auth import service as auth
from modelpilot.core.clientip import is_local_request
from modelpilot.core.db import Database
from modelpilot.core.errors import not_found
from modelpilot.paths import resource
from modelpilot.settings import Settings
from modelpilot.widget.assets import WidgetAssets, asset_response
from modelpilot.widget.build import SSE_MODULE_FILE

_WIDGET_ASSETS = WidgetAssets()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# The widget preview page stands in for a customer's site: the real widget puts a <style>
# into its Shadow DOM, and the dashboard frames this page (same origin only).
PREVIEW_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    etag: str
    content_type: str


# Keyed by (path, mtime_ns, size): an edited file is re-read, an unchanged one hashed once.
_cache: dict[tuple[str, int, int], StaticFile] = {}


def web_root() -> Path:
    return resource("web")


def _resolve(relative: str) -> Path:
    """The file under web/ for a URL path; refuses anything that escapes web/ or is hidden."""
    root = web_root().resolve()
    parts = [p for p in relative.split("/") if p]
    # A NUL or control character makes the file system calls below raise: no such file, plainly.
    if any(p.startswith(".") or not p.isprintable() for p in parts):
        raise not_found("file")
    candidate = root.joinpath(*parts).resolve()
    if root not in candidate.parents or not candidate.is_file():
        raise not_found("file")
    return candidate


def load_static(path: Path) -> StaticFile:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is None:
        body = path.read_bytes()
        content_type = CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = StaticFile(body, etag, content_type or "application/octet-stream")
        _cache[key] = cached
    return cached


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match", "")
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return etag in candidates or "*" in candidates


def static_response(request: Request, relative: str, extra_headers: dict[str, str] | None = None) -> Response:
    static = load_static(_resolve(relative))
    # no-cache = "revalidate every time": files are not content-versioned, so a deploy shows
    # at once, and the ETag makes the revalidation a 304 without a body.
    headers = {**SECURITY_HEADERS, "ETag": static.etag, "Cache-Control": "no-cache", **(extra_headers or {})}
    if _etag_matches(request, static.etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(static.body, media_type=static.content_type, headers=headers)


@get("/api/v1/instance", tags=["public"])
async def instance_info(request: Request, db: Database, settings: Settings) -> dict:
    """What the dashboard needs before anyone logs in: first-run state (and whether the setup
    form must ask for the printed setup token), whether sign-up is open and whether this instance
    can e-mail (the "forgot password" page says what to do when it cannot)."""
    needed = await auth.setup_needed(db)
    token_required = needed and not is_local_request(request.scope, settings.trusted_proxies)
    return {"setup_needed": needed, "setup_token_required": token_required, "open_signup": settings.open_signup,
            "email_enabled": settings.smtp_configured, "version": __version__}


@get("/", tags=["dashboard"], include_in_schema=False)
async def dashboard_index(request: Request) -> Response:
    return static_response(request, "index.html")


@get("/widget-preview.html", tags=["dashboard"], include_in_schema=False)
async def widget_preview(request: Request) -> Response:
    return static_response(request, "widget-preview.html", {
        "Content-Security-Policy": PREVIEW_CONTENT_SECURITY_POLICY, "X-Frame-Options": "SAMEORIGIN"})


@get("/api/docs", tags=["dashboard"], include_in_schema=False)
async def api_docs(request: Request) -> Response:
    """The API reference: a page of our own that reads /schema/openapi.json, so it works offline
    (the viewers Litestar bundles load their scripts from a CDN)."""
    return static_response(request, "api-docs.html")


@get("/css/{asset:path}", tags=["dashboard"], include_in_schema=False)
async def dashboard_css(request: Request, asset: str) -> Response:
    return static_response(request, "css/" + asset)


@get("/js/{asset:path}", tags=["dashboard"], include_in_schema=False)
async def dashboard_js(request: Request, asset: str) -> Response:
    if asset.lstrip("/") == "sse.js":  # the widget's own parser, so both read a stream the same way
        return asset_response(request, _WIDGET_ASSETS.get(SSE_MODULE_FILE))
    return static_response(request, "js/" + asset)


@get("/img/{asset:path}", tags=["dashboard"], include_in_schema=False)
async def dashboard_img(request: Request, asset: str) -> Response:
    return static_response(request, "img/" + asset)


@get("/favicon.ico", tags=["dashboard"], include_in_schema=False)
async def dashboard_favicon(request: Request) -> Response:
    return static_response(request, "img/favicon.svg")


ROUTES = [instance_info, dashboard_index, widget_preview, api_docs, dashboard_css, dashboard_js, dashboard_img, dashboard_favicon]
