"""The Prometheus reader: opentelemetry-exporter-prometheus's, with our own histograms added to
each collection (histograms.py says why they are kept outside the SDK's instruments)."""

from __future__ import annotations

from time import time_ns
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics.export import MetricsData, ResourceMetrics, ScopeMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from federation.observability.histograms import FastHistogram


class HistogramReader(PrometheusMetricReader):
    """Register a histogram with `histograms.append`; each collection then carries it."""

    def __init__(self, resource: Resource, scope: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._resource = resource
        self._scope = InstrumentationScope(scope)
        self.histograms: list[FastHistogram] = []
        self._received = False

    def collect(self, timeout_millis: float = 10_000) -> None:  # type: ignore[misc]
        # MetricReader.collect (marked final: it times the collection) hands nothing on while
        # no SDK instrument has data, e.g. on an idle gateway whose only records are our
        # histograms. It still does all it did; then ours go alone when it handed nothing on.
        self._received = False
        super().collect(timeout_millis)
        if not self._received and (ours := self._ours()):
            super()._receive_metrics(MetricsData(ours), timeout_millis)

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        # The hook the SDK documents for MetricReader subclasses: it is handed what the
        # MeterProvider collected, and ours go with it as one more resource's scope, which the
        # exporter translates like any other (the resource only feeds target_info, and the
        # MeterProvider's own resource comes first).
        self._received = True
        collected = [*metrics_data.resource_metrics, *self._ours()]
        super()._receive_metrics(MetricsData(collected), timeout_millis, **kwargs)

    def _ours(self) -> list[ResourceMetrics]:
        now = time_ns()
        metrics = [m for h in self.histograms if (m := h.metric(now)) is not None]
        if not metrics:
            return []
        return [ResourceMetrics(self._resource, [ScopeMetrics(self._scope, metrics, "")], "")]
