"""The built widget files as HTTP responses: content-hash ETag, gzip, cache headers.

The server reads the files `python -m modelpilot.widget.build` wrote (from the binary: the
bundled copies). A source checkout whose build is missing builds in memory instead, so a
forgotten build step never means a site without its chat.
"""

from __future__ import annotations

import gzip
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response

from modelpilot.paths import widget_build_dir, widget_source_dir
from modelpilot.widget.build import CHAT_FILE, LOADER_FILE, SSE_MODULE_FILE, build_widget, content_version

log = logging.getLogger("modelpilot.widget")

# Unversioned /widget.js is what every embed snippet names: short cache so updates arrive soon,
# then revalidated cheaply by ETag. A ?v= URL that matches the content never changes.
SHORT_CACHE = "public, max-age=300"
FOREVER_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _asset(text: str) -> Asset:
    body = text.encode("utf-8")
    return Asset(body=body, gzipped=gzip.compress(body, 9, mtime=0), version=content_version(body))


class WidgetAssets:
    """Loads the built files once per change of their mtime."""

    def __init__(self, build_dir: Path | None = None, source_dir: Path | None = None) -> None:
        self.build_dir = build_dir or widget_build_dir()
        self.source_dir = source_dir or widget_source_dir()
        self._cache: dict[str, tuple[float, Asset]] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> Asset:
        path = self.build_dir / filename
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return self._built_in_memory(filename)
        cached = self._cache.get(filename)
        if cached and cached[0] == mtime:
            return cached[1]
        asset = _asset(path.read_text(encoding="utf-8"))
        with self._lock:
            self._cache[filename] = (mtime, asset)
        return asset

    def _built_in_memory(self, filename: str) -> Asset:
        cached = self._cache.get(filename)
        if cached and cached[0] == -1:
            return cached[1]
        log.warning("widget build missing in %s; building from %s in memory", self.build_dir, self.source_dir)
        built = build_widget(self.source_dir)
        with self._lock:
            self._cache[LOADER_FILE] = (-1, _asset(built.loader))
            self._cache[CHAT_FILE] = (-1, _asset(built.chat))
            self._cache[SSE_MODULE_FILE] = (-1, _asset(built.sse_module))
        return self._cache[filename][1]


def _etag_matches(request: Request, asset: Asset) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == asset.etag for tag in wanted.split(","))


def asset_response(request: Request, asset: Asset) -> Response:
    immutable = request.query_params.get("v") == asset.version
    headers = {
        "ETag": asset.etag,
        "Cache-Control": FOREVER_CACHE if immutable else SHORT_CACHE,
        "Vary": "Accept-Encoding",
        # Any site may embed it; the chat module is fetched by import(), which needs CORS.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request, asset):
        return Response(content=b"", status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(content=body, media_type="text/javascript", headers=headers)
