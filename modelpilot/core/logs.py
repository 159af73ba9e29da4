"""Logging set-up: text for people, JSON lines for log shippers; every line carries the request id.

The request id lives in a context variable set by the request middleware (core/observe.py), so
any log line written while serving a request (and in tasks it starts) names that request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Fields that access-log and other records may carry as `extra=`; JSON output keeps them.
EXTRA_FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "client", "bytes")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (or "-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value is not None and value != "-":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx2 (the mcp SDK's client) would log every MCP server URL at INFO: some embed a key.
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "mcp", "LiteLLM", "litellm", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
