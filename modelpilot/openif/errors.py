"""OpenAI's error body for the /v1 routes, so OpenAI SDKs raise the exception they would for OpenAI.

`{"error": {"message", "type", "param", "code"}}`: the SDKs pick the exception class by HTTP status
(401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError, 429 RateLimitError, 400
BadRequestError, anything else APIStatusError with its status) and show `message`. The types are
the ones OpenAI itself sends for each status.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from modelpilot.core.errors import ApiError, EXCEPTION_HANDLERS

_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
          404: "invalid_request_error", 402: "insufficient_quota", 409: "invalid_request_error",
          413: "invalid_request_error", 429: "requests"}
# Our codes that OpenAI spells its own way.
_CODES = {"unauthorized": "invalid_api_key", "not_found": "model_not_found", "rate_limited": "rate_limit_exceeded",
          "quota_exceeded": "insufficient_quota", "forbidden": "insufficient_permissions"}
_encode = msgspec.json.Encoder().encode


def openai_error(status: int, message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_of(exc: ApiError) -> dict[str, Any]:
    param = None
    if isinstance(exc.details, list) and exc.details and isinstance(exc.details[0], dict):
        param = exc.details[0].get("field")
    return openai_error(exc.status, exc.message, _CODES.get(exc.code, exc.code), param)


def response_of(exc: ApiError) -> Response:
    return Response(error_of(exc), status_code=exc.status, headers=exc.headers)


def error_frame(exc: ApiError) -> bytes:
    """The same body as one SSE event: what a stream sends when it fails after it began."""
    return b"data: " + _encode(error_of(exc)) + b"\n\n"


def _api_error(_: Request, exc: ApiError) -> Response:
    return response_of(exc)


def _reshaped(request: Request, exc: Exception) -> Response:
    """Litestar's own errors (bad JSON, 405, ...) through the app's handler, then in OpenAI's shape."""
    kind = next(k for k in (ValidationException, HTTPException, Exception) if isinstance(exc, k))
    native = EXCEPTION_HANDLERS[kind](request, exc)
    body = native.content.get("error", {}) if isinstance(native.content, dict) else {}
    details = body.get("details")
    param = details[0].get("field") if isinstance(details, list) and details and isinstance(details[0], dict) else None
    return Response(openai_error(native.status_code, body.get("message", "error"), body.get("code"), param),
                    status_code=native.status_code, headers=native.headers)


EXCEPTION_HANDLERS_V1 = {ApiError: _api_error, ValidationException: _reshaped, HTTPException: _reshaped,
                         Exception: _reshaped}
