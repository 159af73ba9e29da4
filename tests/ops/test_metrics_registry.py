"""/metrics text as Prometheus reads it: parsed with prometheus_client's own parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelpilot.core import metrics


def parse(text: str) -> dict[str, float]:
    """'name{label="value",...}' -> value (labels in the order rendered), for other tests' lookups."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sample.labels.items())
            out[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return out


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value; the parser raises on anything Prometheus would refuse."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_recorded_requests_count_per_label_set_and_histograms_are_cumulative() -> None:
    before = samples(metrics.render())
    key = ("modelpilot_http_requests_total", (("method", "GET"), ("route", "/t/registry"), ("status", "200")))
    for seconds in (0.004, 0.3, 0.7, 40.0):
        metrics.record_request("GET", "/t/registry", 200, seconds)
    after = samples(metrics.render())
    assert after[key] - before.get(key, 0) == 4
    bucket = lambda le: after[("modelpilot_http_request_duration_seconds_bucket",
                               (("le", le), ("method", "GET"), ("route", "/t/registry")))]
    assert (bucket("0.005"), bucket("0.5"), bucket("1.0"), bucket("+Inf")) == (1, 2, 3, 4)
    total = after[("modelpilot_http_request_duration_seconds_sum", (("method", "GET"), ("route", "/t/registry")))]
    assert total == pytest.approx(41.004)


def test_no_created_twins_double_the_output() -> None:
    metrics.record_backup("ok")
    assert "_created" not in metrics.render()


def test_scrape_time_gauges_render_with_escaped_labels() -> None:
    gauge = metrics.Gauge("t_gauge", "G.", ("name",))
    gauge.set(1, name='a"b\\c\nd')
    text = metrics.render([gauge])
    assert samples(text)[("t_gauge", (("name", 'a"b\\c\nd'),))] == 1
    assert "modelpilot_http_requests_total" in text or "modelpilot_http_requests" in text


@pytest.mark.parametrize("labels", [{}, {"name": "a", "extra": "x"}, {"other": "a"}])
def test_a_gauge_refuses_wrong_labels(labels: dict) -> None:
    with pytest.raises(ValueError):
        metrics.Gauge("t_gauge", "G.", ("name",)).set(1, **labels)


def test_counters_refuse_to_go_down() -> None:
    with pytest.raises(ValueError):
        metrics.CHAT_COST.inc(-1)
