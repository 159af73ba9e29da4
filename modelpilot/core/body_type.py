"""JSON routes take JSON only: a body sent as anything else is a 415, before it is parsed.

Litestar decodes a handler's `data` as JSON whatever Content-Type says, so a cross-site HTML
form (`enctype="text/plain"` can produce a valid JSON document) reached JSON routes as a
"simple" request, without the CORS preflight a real JSON request needs. Requiring the JSON
media type closes that door for every route at once, new ones included.

A route is a JSON route when its handler takes `data` with the default (JSON) encoding; a
handler that reads a JSON body itself calls `require_json_body` (the widget does, after its
origin check, so the refusal carries the CORS grant the page needs to read it). Multipart
uploads and raw-body routes (Stripe's webhook) are left alone.
"""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.types import ASGIApp, Receive, Scope, Send

from modelpilot.core.errors import ApiError


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def takes_json_body(handler) -> bool:
    """Does the handler take `data` as JSON? (Litestar parses the signature once per handler.)"""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    return getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON) == RequestEncodingType.JSON


def has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length").strip()
    if _header(scope, b"transfer-encoding"):
        return True
    return bool(length) and length != "0"


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def require_json_body(scope: Scope) -> None:
    """415 for a body that is not declared as JSON; a request without a body passes."""
    if has_body(scope) and not is_json_media_type(_header(scope, b"content-type")):
        sent = _header(scope, b"content-type")[:100] or "no Content-Type"
        raise ApiError(415, "unsupported_media_type",
                       f"Send the body as JSON with Content-Type: application/json (got {sent}).",
                       [{"field": "content-type", "message": "must be application/json"}])


def json_body_middleware(app: ASGIApp) -> ASGIApp:
    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] == "http" and handler is not None and takes_json_body(handler):
            require_json_body(scope)
        await app(scope, receive, send)

    return guard
