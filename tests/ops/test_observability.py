"""Request ids, access logs and /metrics on a live server."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from modelpilot.core.logs import TEXT_FORMAT, JsonFormatter, RequestIdFilter, request_id_var
from tests.ops.test_metrics_registry import parse


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_log():
    """The access logger's records, caught on the logger itself (whatever the root handlers are)."""
    logger = logging.getLogger("modelpilot.access")
    collector, level = Collector(), logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    yield collector
    logger.removeHandler(collector)
    logger.setLevel(level)


def access_records(collector: Collector, request_id: str) -> list[logging.LogRecord]:
    return [r for r in collector.records if r.request_id == request_id]


def test_every_response_names_its_request_id(api) -> None:
    first, second = api.get("/healthz"), api.get("/healthz")
    assert len(first.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(api) -> None:
    assert api.get("/healthz", headers={"X-Request-ID": "edge-42.abc"}).headers["x-request-id"] == "edge-42.abc"
    for bad in ("has space", "x" * 200, "semi;colon"):
        assert api.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"] != bad


def test_one_access_log_line_per_request(api, access_log) -> None:
    api.setup_owner()
    response = api.get(f"/api/v1/workspaces/{api.ws}/members", headers={"X-Request-ID": "req-members"})
    assert response.status_code == 200
    [record] = access_records(access_log, "req-members")
    assert (record.method, record.route, record.status) == ("GET", "/api/v1/workspaces/{ws}/members", 200)
    assert record.path == f"/api/v1/workspaces/{api.ws}/members"
    assert record.duration_ms >= 0 and record.client == "127.0.0.1"
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-members" and line["status"] == 200 and line["level"] == "info"
    assert line["route"] == "/api/v1/workspaces/{ws}/members"


def test_secrets_in_paths_are_not_logged(api, access_log) -> None:
    api.get("/api/v1/invitations/secret-token-value", headers={"X-Request-ID": "req-invite"})
    [record] = access_records(access_log, "req-invite")
    assert "secret-token-value" not in record.path
    assert record.status == 404


def test_log_lines_outside_requests_and_inside_carry_the_id() -> None:
    record = logging.LogRecord("modelpilot.test", logging.INFO, __file__, 1, "hello", (), None)
    RequestIdFilter().filter(record)
    assert logging.Formatter(TEXT_FORMAT).format(record).endswith("modelpilot.test [-]: hello")
    token = request_id_var.set("abc123")
    try:
        inside = logging.LogRecord("modelpilot.test", logging.INFO, __file__, 1, "hi", (), None)
        RequestIdFilter().filter(inside)
    finally:
        request_id_var.reset(token)
    assert json.loads(JsonFormatter().format(inside))["request_id"] == "abc123"


def test_metrics_count_requests_by_route_template_and_status(api) -> None:
    api.setup_owner()
    api.get(f"/api/v1/workspaces/{api.ws}")
    api.get("/no/such/page")
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.text)
    assert samples['modelpilot_http_requests_total{method="GET",route="/api/v1/workspaces/{ws}",status="200"}'] >= 1
    assert samples['modelpilot_http_requests_total{method="GET",route="unmatched",status="404"}'] >= 1
    assert samples['modelpilot_http_request_duration_seconds_count{method="GET",route="/api/v1/workspaces/{ws}"}'] >= 1
    assert not any(api.ws in key for key in samples), "raw ids must not become label values"
    assert samples['modelpilot_db_size_bytes{file="db"}'] > 0
    for family in ("modelpilot_chat_replies_total", "modelpilot_chat_reply_seconds", "modelpilot_chat_tokens_total",
                   "modelpilot_chat_cost_usd_total", "modelpilot_jobs_finished_total"):
        assert f"# TYPE {family} " in response.text


@pytest.mark.parametrize(("authorization", "status"), [
    (None, 401), ("Bearer wrong", 401), ("Basic c2VjcmV0", 401), ("Bearer metrics-secret", 200),
])
def test_metrics_need_the_token_when_one_is_set(server_factory, authorization, status) -> None:
    live = server_factory(metrics_token="metrics-secret")
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(live.url + "/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"]["code"] == "unauthorized"
        assert "modelpilot_" not in response.text
