"""The server's metrics, exposed in the Prometheus text format through `prometheus_client`.

Domains record through the functions at the bottom (`record_chat`, `record_job`, ...); the
request middleware records HTTP figures; `/metrics` renders everything, plus gauges read at
scrape time (database size, queued jobs), which the ops service builds as `Gauge`s.

Label values must come from a small set (route templates, statuses, outcomes), never from
user input, or the series multiply without bound.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

# One sample per series: the `_created` twins of every counter double the output for nothing.
prometheus_client.disable_created_metrics()

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CHAT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

# The server's own registry, not the library's global one: nothing else registers into it.
REGISTRY = CollectorRegistry(auto_describe=True)


class Gauge(GaugeMetricFamily):
    """A gauge computed at scrape time: `set(value, **labels)`, then passed to `render`."""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labels=list(labelnames))
        self.labelnames = tuple(labelnames)

    def set(self, value: float, **labels: str) -> None:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        self.add_metric([str(labels[name]) for name in self.labelnames], float(value))


class _Snapshot:
    """A collector that yields families built elsewhere (the scrape-time gauges)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def render(extra: Iterable[Metric] = ()) -> str:
    text = generate_latest(REGISTRY)
    extra = list(extra)
    if extra:
        snapshot = CollectorRegistry(auto_describe=False)
        snapshot.register(_Snapshot(extra))
        text += generate_latest(snapshot)
    return text.decode("utf-8")


HTTP_REQUESTS = Counter(
    "modelpilot_http_requests", "HTTP requests by method, route template and status.",
    ("method", "route", "status"), registry=REGISTRY)
HTTP_DURATION = Histogram(
    "modelpilot_http_request_duration_seconds",
    "Time from request to the last byte of the response (whole stream for SSE).", ("method", "route"),
    buckets=HTTP_BUCKETS, registry=REGISTRY)
CHAT_REPLIES = Counter(
    "modelpilot_chat_replies", "Chat replies by channel (widget/api) and outcome (ok/error/cancelled).",
    ("channel", "outcome"), registry=REGISTRY)
CHAT_FIRST_TOKEN = Histogram(
    "modelpilot_chat_first_token_seconds", "Time from the chat request to the first piece of the answer.",
    ("channel",), buckets=CHAT_BUCKETS, registry=REGISTRY)
CHAT_DURATION = Histogram(
    "modelpilot_chat_reply_seconds", "Time from the chat request to the end of the answer.",
    ("channel",), buckets=CHAT_BUCKETS, registry=REGISTRY)
CHAT_TOKENS = Counter(
    "modelpilot_chat_tokens", "LLM tokens by direction (in = prompt, out = completion).", ("direction",),
    registry=REGISTRY)
CHAT_COST = Counter("modelpilot_chat_cost_usd", "Estimated LLM cost in US dollars.", registry=REGISTRY)
JOBS_FINISHED = Counter(
    "modelpilot_jobs_finished", "Background jobs finished, by kind and outcome (ok/failed/retry/cancelled).",
    ("kind", "outcome"), registry=REGISTRY)
JOB_DURATION = Histogram(
    "modelpilot_job_duration_seconds", "Background job run time by kind.", ("kind",), buckets=JOB_BUCKETS,
    registry=REGISTRY)
BACKUPS = Counter("modelpilot_backups", "Scheduled backups by outcome (ok/failed).", ("outcome",), registry=REGISTRY)
TOOL_CALLS = Counter(
    "modelpilot_tool_calls", "Tool calls of chat turns by type (action/mcp/builtin) and status (done, error, "
    "refused, unavailable, declined, pending).", ("type", "status"), registry=REGISTRY)
MCP_REQUESTS = Counter(
    "modelpilot_mcp_requests", "Requests to remote MCP servers by operation (list/call) and outcome "
    "(ok, tool_error: the tool reported an error, unavailable: no usable answer).", ("op", "outcome"),
    registry=REGISTRY)
MCP_DURATION = Histogram(
    "modelpilot_mcp_request_seconds", "Time of one remote MCP operation, connecting included.", ("op",),
    buckets=HTTP_BUCKETS, registry=REGISTRY)


_children: dict[tuple, Any] = {}


def _child(metric: Any, *values: str) -> Any:
    """metric.labels(*values), kept: prometheus_client checks and locks on every labels() call,
    and every request and chat reply records several (label values here are few: routes, channels)."""
    key = (id(metric), values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    _child(HTTP_REQUESTS, method, route, str(status)).inc()
    _child(HTTP_DURATION, method, route).observe(seconds)


def record_chat(channel: str, outcome: str, *, duration_s: float, first_token_s: float | None = None,
                tokens_in: int = 0, tokens_out: int = 0, cost: float = 0.0) -> None:
    """One finished chat reply. channel: "widget" or "api"; outcome: "ok", "error" or "cancelled"."""
    _child(CHAT_REPLIES, channel, outcome).inc()
    _child(CHAT_DURATION, channel).observe(duration_s)
    if first_token_s is not None:
        _child(CHAT_FIRST_TOKEN, channel).observe(first_token_s)
    _child(CHAT_TOKENS, "in").inc(max(0, tokens_in))
    _child(CHAT_TOKENS, "out").inc(max(0, tokens_out))
    CHAT_COST.inc(max(0.0, cost or 0.0))


def record_job(kind: str, outcome: str, duration_s: float | None = None) -> None:
    """One background job run ended. outcome: "ok", "failed" (for good), "retry" or "cancelled"
    (its object was deleted while it ran, or the server is stopping)."""
    JOBS_FINISHED.labels(kind=kind, outcome=outcome).inc()
    if duration_s is not None:
        JOB_DURATION.labels(kind=kind).observe(duration_s)


def record_backup(outcome: str) -> None:
    BACKUPS.labels(outcome=outcome).inc()


def record_mcp(op: str, outcome: str, duration_s: float) -> None:
    MCP_REQUESTS.labels(op=op, outcome=outcome).inc()
    MCP_DURATION.labels(op=op).observe(duration_s)


def record_tool_call(kind: str, status: str) -> None:
    TOOL_CALLS.labels(type=kind, status=status).inc()
