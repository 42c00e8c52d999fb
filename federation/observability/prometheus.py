"""Our histograms (histograms.py says why they live outside the SDK) as Prometheus families.

A prometheus_client collector registered on the gateway's own registry beside the
OpenTelemetry exporter's: each scrape asks both. This uses only prometheus_client's public
collector interface, so no exporter release can break it by changing the SDK reader's
internals. It names and renders the histograms as the exporter renders an SDK histogram (the
OpenTelemetry-Prometheus compatibility specification), which tests/unit/test_histograms.py
holds by scraping an SDK histogram and one of ours fed the same records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.metrics_core import Metric

from federation.observability.histograms import FastHistogram

# The specification's unit words for the units our histograms use (it maps more, none of ours).
_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds", "By": "bytes", "1": ""}
_ANNOTATION = re.compile(r"{.*}")  # "{inbox}": a UCUM annotation, no unit at all
_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_IN_LABEL = re.compile(r"[^a-zA-Z0-9]+")


def prometheus_unit(unit: str) -> str:
    unit = _ANNOTATION.sub("", unit)
    return _UNIT_WORDS.get(unit, _NOT_IN_NAME.sub("_", unit).strip("_"))


def prometheus_name(name: str) -> str:
    if name[:1].isdigit():
        name = "_" + name[1:]
    return _NOT_IN_NAME.sub("_", name)


def _label_name(key: str) -> str:
    if key[:1].isdigit():
        key = "_" + key[1:]
    return _NOT_IN_LABEL.sub("_", key)


def _label_value(value: Any) -> str:
    # As the exporter writes attribute values: strings as they are, anything else as JSON
    # (True -> "true", 202 -> "202").
    return value if isinstance(value, str) else json.dumps(value, default=str)


def target_info(attributes: Mapping[str, Any]) -> dict[str, str]:
    """The resource's attributes as `target_info` labels, written as the exporter writes them;
    the registry serves them from the first scrape (before any instrument has data)."""
    return {_label_name(key): _label_value(value) for key, value in attributes.items()}


def histogram_family(histogram: FastHistogram) -> HistogramMetricFamily | None:
    """The histogram's cumulative state as one family (None before its first record)."""
    recorded = histogram.series()
    if not recorded:
        return None
    keys = sorted({key for attributes, _ in recorded for key in attributes})
    family = HistogramMetricFamily(
        prometheus_name(histogram.name),
        histogram.description,
        labels=[_label_name(key) for key in keys],
        unit=prometheus_unit(histogram.unit),
    )
    bounds = [f"{bound}" for bound in histogram.boundaries] + ["+Inf"]
    for attributes, series in recorded:
        # Missing keys are written empty, as the exporter fills a row every family shares.
        family.add_metric(
            [_label_value(attributes.get(key, "")) for key in keys],
            list(zip(bounds, accumulate(series.counts), strict=True)),
            series.sum,
        )
    return family


class HistogramCollector:
    """Register with `registry.register(collector)`; histograms join `histograms` later."""

    def __init__(self, histograms: Sequence[FastHistogram] = ()) -> None:
        self.histograms: list[FastHistogram] = list(histograms)

    def collect(self) -> Iterable[Metric]:
        for histogram in self.histograms:
            family = histogram_family(histogram)
            if family is not None:
                yield family

    def describe(self) -> Iterable[Metric]:
        # Registration asks for names once; they are not known then (histograms join after).
        return []
