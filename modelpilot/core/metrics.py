"""A small in-process metrics registry rendered in the Prometheus text format (0.0.4).

One process serves an instance, so plain counters in memory are enough: no client library.
Domains record through the functions at the bottom (`record_chat`, `record_job`, ...); the
request middleware records HTTP figures; `/metrics` renders everything, plus gauges read at
scrape time (database size, queued jobs) which the ops service adds as extra samples.

Label values must come from a small set (route templates, statuses, outcomes), never from
user input, or the series multiply without bound.
"""

from __future__ import annotations

import math
import threading
from typing import Iterable, Sequence

Labels = tuple[str, ...]

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CHAT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(str(value))}"' for name, value in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _format_number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labelnames)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class _ScalarMetric(_Metric):
    """One number per label set: the shared body of counters and gauges."""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[Labels, float] = {}

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_format_labels(self.labelnames, key)} {_format_number(v)}" for key, v in items]


class Counter(_ScalarMetric):
    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_ScalarMetric):
    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = HTTP_BUCKETS) -> None:
        super().__init__(name, help, labelnames)
        self.buckets = tuple(sorted(buckets))
        # per label set: [count per bucket..., +Inf count], sum
        self._series: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0]))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
                    break
            else:
                counts[-1] += 1
            total[0] += value

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return sum(series[0]) if series else 0

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((key, (list(c), t[0])) for key, (c, t) in self._series.items())
        lines = []
        for key, (counts, total) in items:
            running = 0
            for bound, count in zip((*self.buckets, math.inf), counts):
                running += count
                le = 'le="' + _format_number(bound) + '"'
                lines.append(f"{self.name}_bucket{_format_labels(self.labelnames, key, le)} {running}")
            lines.append(f"{self.name}_sum{_format_labels(self.labelnames, key)} {_format_number(total)}")
            lines.append(f"{self.name}_count{_format_labels(self.labelnames, key)} {running}")
        return lines


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> _Metric:
        existing = self._metrics.get(metric.name)
        if existing is not None:
            return existing  # re-imports and test re-runs share the one series set
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        return self._add(Counter(name, help, labelnames))  # type: ignore[return-value]

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self._add(Gauge(name, help, labelnames))  # type: ignore[return-value]

    def histogram(self, name: str, help: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = HTTP_BUCKETS) -> Histogram:
        return self._add(Histogram(name, help, labelnames, buckets))  # type: ignore[return-value]

    def render(self, extra: Iterable[_Metric] = ()) -> str:
        lines: list[str] = []
        for metric in (*self._metrics.values(), *extra):
            lines.extend(metric.header())
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


REGISTRY = Registry()

HTTP_REQUESTS = REGISTRY.counter(
    "modelpilot_http_requests_total", "HTTP requests by method, route template and status.",
    ("method", "route", "status"))
HTTP_DURATION = REGISTRY.histogram(
    "modelpilot_http_request_duration_seconds",
    "Time from request to the last byte of the response (whole stream for SSE).", ("method", "route"))
CHAT_REPLIES = REGISTRY.counter(
    "modelpilot_chat_replies_total", "Chat replies by channel (widget/api) and outcome (ok/error/cancelled).",
    ("channel", "outcome"))
CHAT_FIRST_TOKEN = REGISTRY.histogram(
    "modelpilot_chat_first_token_seconds", "Time from the chat request to the first piece of the answer.",
    ("channel",), CHAT_BUCKETS)
CHAT_DURATION = REGISTRY.histogram(
    "modelpilot_chat_reply_seconds", "Time from the chat request to the end of the answer.",
    ("channel",), CHAT_BUCKETS)
CHAT_TOKENS = REGISTRY.counter(
    "modelpilot_chat_tokens_total", "LLM tokens by direction (in = prompt, out = completion).", ("direction",))
CHAT_COST = REGISTRY.counter("modelpilot_chat_cost_usd_total", "Estimated LLM cost in US dollars.")
JOBS_FINISHED = REGISTRY.counter(
    "modelpilot_jobs_finished_total", "Background jobs finished, by kind and outcome (ok/failed/retry/cancelled).",
    ("kind", "outcome"))
JOB_DURATION = REGISTRY.histogram(
    "modelpilot_job_duration_seconds", "Background job run time by kind.", ("kind",), JOB_BUCKETS)
BACKUPS = REGISTRY.counter("modelpilot_backups_total", "Scheduled backups by outcome (ok/failed).", ("outcome",))


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.inc(method=method, route=route, status=str(status))
    HTTP_DURATION.observe(seconds, method=method, route=route)


def record_chat(channel: str, outcome: str, *, duration_s: float, first_token_s: float | None = None,
                tokens_in: int = 0, tokens_out: int = 0, cost: float = 0.0) -> None:
    """One finished chat reply. channel: "widget" or "api"; outcome: "ok", "error" or "cancelled"."""
    CHAT_REPLIES.inc(channel=channel, outcome=outcome)
    CHAT_DURATION.observe(duration_s, channel=channel)
    if first_token_s is not None:
        CHAT_FIRST_TOKEN.observe(first_token_s, channel=channel)
    CHAT_TOKENS.inc(max(0, tokens_in), direction="in")
    CHAT_TOKENS.inc(max(0, tokens_out), direction="out")
    CHAT_COST.inc(max(0.0, cost or 0.0))


def record_job(kind: str, outcome: str, duration_s: float | None = None) -> None:
    """One background job run ended. outcome: "ok", "failed" (for good), "retry" or "cancelled"
    (its object was deleted while it ran, or the server is stopping)."""
    JOBS_FINISHED.inc(kind=kind, outcome=outcome)
    if duration_s is not None:
        JOB_DURATION.observe(duration_s, kind=kind)


def record_backup(outcome: str) -> None:
    BACKUPS.inc(outcome=outcome)
