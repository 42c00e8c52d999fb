"""Our histograms (kept outside the SDK for speed) reach Prometheus exactly as an SDK histogram
with the same name, unit, boundaries and records would."""

from __future__ import annotations

import math

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from federation.observability import histograms
from federation.observability.histograms import FastHistogram
from federation.observability.prometheus import HistogramCollector
from federation.observability.setup import build_telemetry

BOUNDS = (0.0, 1.0, 2.5, 10.0)
LABELS = ("http.route", "http.response.status_code")
STATUS = ("http_response_status_code", "")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Both:
    """One SDK histogram and one of ours, fed the same records, scraped from one registry."""

    def __init__(self, limit: int | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reader = PrometheusMetricReader(
            registry=self.registry,
            scope_info_enabled=False,
            cardinality_limits={Histogram: limit} if limit else None,
        )
        collector = HistogramCollector()
        self.registry.register(collector)
        self.provider = MeterProvider([reader], shutdown_on_exit=False)
        self.sdk = self.provider.get_meter("t").create_histogram(
            "sdk.request.duration", "ms", "d", explicit_bucket_boundaries_advisory=BOUNDS
        )
        self.ours = FastHistogram("our.request.duration", "ms", "d", BOUNDS, LABELS)
        collector.histograms.append(self.ours)

    def record(self, value: float, route: str, status: int) -> None:
        self.sdk.record(value, {LABELS[0]: route, LABELS[1]: status})
        self.ours.record(value, (route, status))

    def scrape(self) -> tuple[Samples, Samples]:
        text = generate_latest(self.registry).decode()
        samples: Samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

        def named(prefix: str) -> Samples:
            cut = len(prefix)
            return {(n[cut:], k): v for (n, k), v in samples.items() if n.startswith(prefix)}

        return named("sdk_"), named("our_")


@pytest.fixture
def both() -> Both:
    pair = Both()
    yield pair
    pair.provider.shutdown()


def test_buckets_sum_and_count_match_the_sdk_and_stay_cumulative(both: Both) -> None:
    for value in (0.0, 0.5, 1.0, 1.0001, 2.5, 9.0, 10.0, 11.0, 1e6):
        both.record(value, "/inbox", 202)
    both.record(3.0, "/blocks/{id}", 404)
    sdk, ours = both.scrape()
    assert ours == sdk
    bucket = ("request_duration_milliseconds_bucket", "/inbox")
    le = {dict(k)["le"]: v for (n, k), v in ours.items() if (n, dict(k)["http_route"]) == bucket}
    # A value equal to a boundary counts in that boundary's bucket, as the SDK counts it.
    assert le == {"0.0": 1, "1.0": 3, "2.5": 5, "10.0": 7, "+Inf": 9}

    both.record(0.2, "/inbox", 202)  # the next scrape adds to the totals, never resets them
    sdk, ours = both.scrape()
    assert ours == sdk
    count = ("request_duration_milliseconds_count", "/inbox")
    assert [v for (n, k), v in ours.items() if (n, dict(k)["http_route"]) == count] == [10]


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_negative_and_non_finite_values_are_dropped_as_the_sdk_drops_them(
    both: Both, value: float
) -> None:
    both.record(value, "/inbox", 202)
    both.record(1.0, "/inbox", 202)
    sdk, ours = both.scrape()
    assert ours == sdk
    assert ours[("request_duration_milliseconds_sum", _labels("/inbox", 202))] == 1.0


def test_label_sets_past_the_limit_count_in_one_overflow_series(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(histograms, "CARDINALITY_LIMIT", 2)
    limited = Both(limit=2)
    try:
        for status in (200, 201, 202, 203):
            limited.record(1.0, "/inbox", status)
        sdk, ours = limited.scrape()
    finally:
        limited.provider.shutdown()
    assert ours == sdk
    counts = {k: v for (n, k), v in ours.items() if n == "request_duration_milliseconds_count"}
    assert sorted(counts.values()) == [1, 1, 2]
    overflow = {("otel_metric_overflow", "true"), ("http_route", ""), ("le", "+Inf")}
    assert ours[("request_duration_milliseconds_bucket", frozenset(overflow | {STATUS}))] == 2


def _labels(route: str, status: int) -> frozenset[tuple[str, str]]:
    return frozenset({("http_route", route), ("http_response_status_code", str(status))})


def test_histograms_show_when_no_sdk_instrument_has_data() -> None:
    # An idle gateway that is only scraped: the scrapes are its only records.
    telemetry = build_telemetry("t", metrics=True, environ={})
    try:
        # Nothing recorded yet: only who we are (target_info, from the first scrape on).
        first = text_string_to_metric_families(telemetry.render().decode())
        assert [(f.name, f.samples[0].labels["service_name"]) for f in first] == [
            ("target_info", "t")
        ]
        for scrape in (1, 2):
            telemetry.metrics.http_request("/metrics", "GET", 200, 0.001)
            families = text_string_to_metric_families(telemetry.render().decode())
            counts = [
                s.value
                for f in families
                for s in f.samples
                if s.name == "http_server_request_duration_seconds_count"
            ]
            assert counts == [scrape]
    finally:
        telemetry.shutdown()
