"""The metrics registry renders valid Prometheus text: counters, gauges, cumulative histograms."""

from __future__ import annotations

import re

import pytest

from modelpilot.core.metrics import Registry

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def parse(text: str) -> dict[str, float]:
    """name{labels} -> value, and a check that every line is a comment or a valid sample."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) \w+ ", line), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(4))
    return samples


def test_counter_counts_per_label_set() -> None:
    registry = Registry()
    hits = registry.counter("t_hits_total", "Hits.", ("route", "status"))
    hits.inc(route="/a", status="200")
    hits.inc(2, route="/a", status="200")
    hits.inc(route="/a", status="404")
    samples = parse(registry.render())
    assert samples['t_hits_total{route="/a",status="200"}'] == 3
    assert samples['t_hits_total{route="/a",status="404"}'] == 1


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    registry = Registry()
    latency = registry.histogram("t_seconds", "Latency.", ("route",), buckets=(0.1, 1.0))
    for value in (0.05, 0.5, 0.7, 3.0):
        latency.observe(value, route="/x")
    samples = parse(registry.render())
    assert samples['t_seconds_bucket{route="/x",le="0.1"}'] == 1
    assert samples['t_seconds_bucket{route="/x",le="1"}'] == 3
    assert samples['t_seconds_bucket{route="/x",le="+Inf"}'] == 4
    assert samples['t_seconds_count{route="/x"}'] == 4
    assert samples['t_seconds_sum{route="/x"}'] == pytest.approx(4.25)


def test_label_values_are_escaped() -> None:
    registry = Registry()
    registry.gauge("t_gauge", "G.", ("name",)).set(1, name='a"b\\c\nd')
    assert 't_gauge{name="a\\"b\\\\c\\nd"} 1' in registry.render()


@pytest.mark.parametrize("labels", [{}, {"route": "/a", "extra": "x"}, {"other": "/a"}])
def test_wrong_labels_are_refused(labels: dict) -> None:
    counter = Registry().counter("t_total", "T.", ("route",))
    with pytest.raises(ValueError):
        counter.inc(**labels)


def test_counter_refuses_to_go_down() -> None:
    with pytest.raises(ValueError):
        Registry().counter("t_total", "T.").inc(-1)


def test_registering_a_name_twice_returns_the_same_metric() -> None:
    registry = Registry()
    assert registry.counter("t_total", "T.") is registry.counter("t_total", "T.")
