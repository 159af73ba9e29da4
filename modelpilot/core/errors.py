"""The one project error type and the handlers that turn errors into API.md's error body."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger("modelpilot.errors")


class ApiError(Exception):
    """An error a client should see: HTTP status, a snake_case code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"{what.capitalize()} not found.")


def forbidden(message: str = "Your role does not allow this.") -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthorized(message: str = "Log in first.") -> ApiError:
    return ApiError(401, "unauthorized", message)


def invalid(field: str, message: str) -> ApiError:
    """Bad input in one named field."""
    return ApiError(400, "validation_error", f"{field}: {message}", [{"field": field, "message": message}])


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _api_error_handler(_: Request, exc: ApiError) -> Response:
    return Response(error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)


def _field_of(key: str | None, message: str) -> str:
    if key:
        return key
    # msgspec names the path in its message: "... - at `$.email`"
    if "`$." in message:
        return message.rsplit("`$.", 1)[1].rstrip("`").split("`")[0]
    return "body"


def _validation_handler(_: Request, exc: ValidationException) -> Response:
    details = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid value"))
            details.append({"field": _field_of(item.get("key"), message), "message": message})
    if not details:
        details.append({"field": "body", "message": exc.detail or "invalid request body"})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return Response(error_body("validation_error", summary, details), status_code=400)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _http_handler(_: Request, exc: HTTPException) -> Response:
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    return Response(error_body(code, exc.detail or code.replace("_", " ")), status_code=exc.status_code, headers=headers)


def _unexpected_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(error_body("internal_error", "Something went wrong on our side."), status_code=500)


EXCEPTION_HANDLERS = {
    ApiError: _api_error_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    Exception: _unexpected_handler,
}
