"""Operations routes: Prometheus metrics."""

from __future__ import annotations

from litestar import Request, Response, get

from modelpilot.core.db import Database
from modelpilot.ops import service
from modelpilot.settings import Settings

# Litestar appends "; charset=utf-8" to text types itself.
PROMETHEUS_TEXT = "text/plain; version=0.0.4"


@get("/metrics", include_in_schema=False)
async def metrics_page(request: Request, db: Database, settings: Settings) -> Response:
    service.check_metrics_token(settings, request.headers.get("authorization", ""))
    body = await service.render_metrics(db, settings)
    return Response(body, media_type=PROMETHEUS_TEXT, headers={"Cache-Control": "no-store"})


ROUTES = [metrics_page]
