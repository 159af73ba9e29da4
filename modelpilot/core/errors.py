"""The one project error type and the handlers that turn errors into API.md's error body."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
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


_FIELD_IN_MESSAGE = re.compile(r"(?:at `\$\.([\w.\[\]]+)`|field `(\w+)`)")


def _field_of(key: str | None, message: str) -> str:
    # msgspec names the field in its message: "... - at `$.email`", "missing required field `name`"
    found = _FIELD_IN_MESSAGE.findall(message)
    if found:
        path, name = found[-1]
        return path or name
    return key or "body"


def _validation_handler(_: Request, exc: ValidationException) -> Response:
    details = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid value"))
            field = _field_of(item.get("key"), message)
            if field == "data":  # Litestar's name for the whole body
                field, message = "body", "a JSON object of the documented shape is required"
            details.append({"field": field, "message": message})
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


def _http_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500 and isinstance(exc.__cause__, msgspec.ValidationError):
        # Litestar reports some nested-body decode errors (unknown field inside a nested object
        # of a union type) as a 500; they are the client's input, so answer like any other.
        message = str(exc.__cause__).split(" - ", 1)[0]
        field = _field_of(None, str(exc.__cause__)).removeprefix("data.")
        return Response(error_body("validation_error", f"{field}: {message}", [{"field": field, "message": message}]),
                        status_code=400)
    if exc.status_code >= 500 and exc.detail == "client disconnected prematurely":
        # The client went away mid-body (or was cut off for stalling): not our failure, and
        # nobody is left to read an answer.
        log.info("client disconnected during the body of %s %s", request.method, request.url.path)
        return Response(error_body("client_disconnected", "The request body was not received completely."),
                        status_code=400)
    if exc.status_code >= 500:
        return _unexpected_handler(request, exc)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 400 and "JSON" in (exc.detail or ""):
        detail = exc.detail or "malformed JSON"
        return Response(error_body("invalid_json", f"The request body is not valid JSON ({detail}).",
                                   [{"field": "body", "message": detail}]), status_code=400)
    headers = dict(exc.headers or {})
    return Response(error_body(code, exc.detail or code.replace("_", " ")), status_code=exc.status_code, headers=headers)


def _unexpected_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(error_body("internal_error", "Something went wrong on our side."), status_code=500)


def _raised_while_decoding_json(exc: BaseException) -> bool:
    """True when the innermost Python frame is the JSON decoder of a request body (msgspec, in C,
    raises RecursionError for deep nesting and UnicodeDecodeError for bad bytes in a string)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name in {"decode_json", "decode_body"}


def body_not_json(exc: BaseException) -> ApiError:
    reason = "it is nested too deeply" if isinstance(exc, RecursionError) else "it is not valid UTF-8"
    return ApiError(400, "invalid_json", f"body: The request body is not valid JSON ({reason}).",
                    [{"field": "body", "message": f"not valid JSON: {reason}"}])


def _decode_failure_handler(request: Request, exc: Exception) -> Response:
    if _raised_while_decoding_json(exc):
        return _api_error_handler(request, body_not_json(exc))
    return _unexpected_handler(request, exc)


EXCEPTION_HANDLERS = {
    ApiError: _api_error_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    RecursionError: _decode_failure_handler,
    UnicodeDecodeError: _decode_failure_handler,
    Exception: _unexpected_handler,
}
