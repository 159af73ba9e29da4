"""The one project error type and the handlers that turn errors into API.md's error body."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from modelpilot.core.fields import Problem, problems_from_message, sentence, struct_problems

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
    """Bad input in one named field; `message` ends a sentence about it ("must not be empty")."""
    return invalid_fields([(field, message)])


def invalid_fields(problems: list[Problem]) -> ApiError:
    """Bad input in several fields, all reported at once. Each detail is a whole sentence a form
    can show under its field; the summary names the API fields for readers of raw responses."""
    details = [{"field": field, "message": sentence(field, fragment)} for field, fragment in problems]
    names = ", ".join(dict.fromkeys(d["field"] for d in details))
    summary = f"Check {names}: " + " ".join(d["message"] for d in details)
    return ApiError(400, "validation_error", summary, details)


class FieldErrors:
    """Collects a body's problems so that every bad field is reported in one 400."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append((field, message))

    def check(self, field: str, check: Any, *args: Any, **kwargs: Any) -> Any:
        """check(*args) or None when it raised a one-field validation error (recorded here)."""
        try:
            return check(*args, **kwargs)
        except ApiError as exc:
            if exc.code != "validation_error" or not isinstance(exc.details, list):
                raise
            self.problems.extend((d["field"], d["message"]) for d in exc.details)
            return None

    def raise_if_any(self) -> None:
        if self.problems:
            raise invalid_fields(self.problems)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _plain_details(details: Any) -> Any:
    # Field details raised by hand elsewhere ({"field": "email", "message": "is already registered"})
    # become sentences too, so every form shows the same kind of message.
    if not isinstance(details, list):
        return details
    return [{**d, "message": sentence(d["field"], str(d["message"]))}
            if isinstance(d, dict) and d.get("field") and d.get("message") else d for d in details]


def _api_error_handler(_: Request, exc: ApiError) -> Response:
    return Response(error_body(exc.code, exc.message, _plain_details(exc.details)), status_code=exc.status,
                    headers=exc.headers)


def _body_problems(request: Request) -> list[Problem]:
    """Every bad field of the body, checked field by field against the handler's request struct.
    Litestar has already read the body (it failed to decode it), and keeps the bytes on the
    request; without them, or for a body that is not JSON, the caller keeps msgspec's one error."""
    handler = request.scope.get("route_handler")
    data_field = getattr(handler, "parsed_data_field", None) if handler else None
    raw = getattr(request, "_body", None)
    if data_field is None or not isinstance(raw, bytes):
        return []
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):  # not JSON a field check can read
        return []
    return struct_problems(data_field.annotation, data)


def _validation_handler(request: Request, exc: ValidationException) -> Response:
    problems = _body_problems(request)
    if not problems:
        for item in exc.extra or []:
            if isinstance(item, dict):
                field, fragment = problems_from_message(str(item.get("message", "is not valid")))
                if field == "body" and item.get("key") not in (None, "data"):
                    field = str(item["key"])  # a query or path parameter
                problems.append((field, fragment))
    if not problems:
        problems.append(("body", "must be a JSON object of the documented shape"))
    error = invalid_fields(problems)
    return Response(error_body(error.code, error.message, error.details), status_code=400)


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
        problems = _body_problems(request)
        if not problems:
            field, fragment = problems_from_message(str(exc.__cause__))
            problems = [(field.removeprefix("data."), fragment)]
        error = invalid_fields(problems)
        return Response(error_body(error.code, error.message, error.details), status_code=400)
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
