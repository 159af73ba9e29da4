"""Provider failures turned into plain words, with the key scrubbed from anything shown or logged."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

log = logging.getLogger("modelpilot.providers")

# LiteLLM exception class name -> (our code, what to tell the user)
_KNOWN = {
    "AuthenticationError": ("provider_auth", "The provider rejected the API key. Check the key under Providers."),
    "PermissionDeniedError": ("provider_auth", "The provider refused access with this key."),
    "RateLimitError": ("provider_rate_limited", "The provider is rate limiting this key; try again shortly."),
    "NotFoundError": ("model_not_found", "The provider does not know this model (or the api_base is wrong)."),
    "ContextWindowExceededError": ("context_too_long", "The conversation is too long for this model."),
    "ContentPolicyViolationError": ("content_policy", "The provider refused this request under its content policy."),
    "BadRequestError": ("provider_bad_request", "The provider rejected the request."),
    "Timeout": ("provider_timeout", "The provider did not answer in time."),
    "APIConnectionError": ("provider_unreachable", "Could not reach the provider."),
    "ServiceUnavailableError": ("provider_error", "The provider is unavailable right now."),
    "InternalServerError": ("provider_error", "The provider failed while answering."),
    "BadGatewayError": ("provider_error", "The provider failed while answering."),
}


class LLMError(Exception):
    """A provider failure in plain words; `code` is the SSE/API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


SCRUBBED = "[key]"
FRAGMENT = 8  # a run sharing this many characters in a row with the key counts as the key
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_\-.~:]{6,}")


def _encodings(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, secret[::-1], raw.hex(), raw.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode, base64.b32encode):
        text = encode(raw).decode()
        forms |= {text, text.rstrip("=")}
    return {form for form in forms if form}


def _spaced(secret: str) -> re.Pattern:
    """The key with anything but letters and digits between its characters (`s k - a b c`)."""
    return re.compile(r"[\W_]{0,3}".join(re.escape(ch) for ch in secret))


def _fragments(secret: str) -> set[str]:
    """Every FRAGMENT-long piece of the key and of each of its encodings (a cut base64 too)."""
    return {form[i:i + FRAGMENT] for form in _encodings(secret) for i in range(len(form) - FRAGMENT + 1)}


def scrub(text: str, secret: str) -> str:
    """Remove a key from text that may be shown or logged, in whatever shape an upstream echoed
    it: whole, reversed, base64, base32 or hex, spaced out, or cut (any token-like run that shares
    FRAGMENT characters in a row with the key or one of those encodings)."""
    if not secret or not text:
        return text
    for form in sorted(_encodings(secret), key=len, reverse=True):
        text = text.replace(form, SCRUBBED)
    if len(secret) < FRAGMENT:
        return text
    text = _spaced(secret).sub(SCRUBBED, text)
    fragments = _fragments(secret)

    def hide(match: re.Match) -> str:
        run = match.group(0)
        if any(run[i:i + FRAGMENT] in fragments for i in range(len(run) - FRAGMENT + 1)):
            return SCRUBBED
        return run

    return _TOKEN_RUN.sub(hide, text)


def _provider_detail(exc: Exception) -> str:
    message = str(getattr(exc, "message", "") or exc)
    for noise in ("litellm.", "LiteLLM", "OpenAIException - ", "Exception - "):
        message = message.replace(noise, "")
    return " ".join(message.split())[:300]


def _summary_for(class_names: list[str]) -> tuple[str, str]:
    for name in class_names:
        if name in _KNOWN:
            return _KNOWN[name]
    return "provider_error", "The model call failed."


def _plain_error(code: str, summary: str, status: int | None, detail: str) -> LLMError:
    message = f"{summary} (HTTP {status}: {detail})" if status else f"{summary} ({detail})"
    if code in ("provider_auth", "provider_bad_request"):
        message = f"{summary} (HTTP {status})" if status else summary
        if code == "provider_bad_request" and detail:
            message += f": {detail}"
    return LLMError(code, message)


def translate_error(exc: Exception, call: Any) -> LLMError:
    """One plain-words error for any provider failure; the key never appears in it."""
    code, summary = _summary_for([cls.__name__ for cls in type(exc).__mro__])
    status = getattr(exc, "status_code", None)
    detail = scrub(_provider_detail(exc), getattr(call, "api_key", ""))
    log.warning("model call to %s failed: %s %s", getattr(call, "litellm_model", "?"), type(exc).__name__,
                status or "")
    return _plain_error(code, summary, status, detail)


# HTTP status of an OpenAI-compatible API -> the LiteLLM exception it would have raised
_BY_STATUS = {
    400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
    408: "Timeout", 422: "BadRequestError", 429: "RateLimitError", 500: "InternalServerError",
    502: "BadGatewayError", 503: "ServiceUnavailableError", 504: "Timeout",
}


def error_for_status(status: int, detail: str, call: Any) -> LLMError:
    """The same plain-words error translate_error gives, for an HTTP error answered by the provider
    itself (the direct OpenAI-compatible client)."""
    name = _BY_STATUS.get(status, "InternalServerError" if status >= 500 else "BadRequestError")
    lowered = detail.lower()
    if status == 400 and ("context_length" in lowered or "maximum context" in lowered):
        name = "ContextWindowExceededError"
    elif status == 400 and ("content_policy" in lowered or "content_filter" in lowered):
        name = "ContentPolicyViolationError"
    code, summary = _KNOWN[name]
    detail = scrub(" ".join(detail.split())[:300], getattr(call, "api_key", ""))
    log.warning("model call to %s failed: HTTP %s", getattr(call, "litellm_model", "?"), status)
    return _plain_error(code, summary, status, detail)
