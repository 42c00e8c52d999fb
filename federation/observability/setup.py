"""One process's telemetry: its MeterProvider, Prometheus registry and TracerProvider.

Built by the composition root for each gateway (never the OpenTelemetry globals), so two
gateways in one test process keep separate counters and spans.

Metrics are exported in Prometheus text format with `opentelemetry-exporter-prometheus`: it
turns OpenTelemetry instruments into Prometheus families by the specification's rules (dots to
underscores, unit suffixes, `_total`), the same translation Fedify's metrics get, and it takes a
registry of our own, so nothing lands in prometheus-client's process-wide default registry.

Traces are exported only when the standard OTEL_* variables configure an OTLP exporter
(OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, with OTEL_TRACES_EXPORTER
unset or "otlp" and OTEL_SDK_DISABLED not "true"); otherwise the tracer is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import NoOpTracer, Tracer
from prometheus_client import CollectorRegistry, generate_latest

from federation.errors import ConfigError
from federation.observability.metrics import Metrics, disabled_metrics

SCOPE = "federation"
_BSP_DELAY_MS = 5000.0  # the specification's default export delay


class _Provider(Protocol):
    def shutdown(self) -> object: ...


@dataclass(frozen=True)
class Telemetry:
    """What feature code records into: `metrics` and `tracer` (either may be a no-op)."""

    metrics: Metrics = field(default_factory=disabled_metrics)
    tracer: Tracer = field(default_factory=NoOpTracer)
    registry: CollectorRegistry | None = None  # None: metrics are off
    _shutdown: list[_Provider] = field(default_factory=list)

    @property
    def metrics_on(self) -> bool:
        return self.registry is not None

    @property
    def tracing_on(self) -> bool:
        return not isinstance(self.tracer, NoOpTracer)

    def render(self) -> bytes:
        """The Prometheus text exposition of this process's metrics."""
        if self.registry is None:
            return b""
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        """Flush spans still buffered and detach the metric reader."""
        for provider in self._shutdown:
            provider.shutdown()
        self._shutdown.clear()


def build_telemetry(service: str, *, metrics: bool, environ: Mapping[str, str]) -> Telemetry:
    """Telemetry for one process named `service` (the instance name). Metrics are recorded
    only when something serves them (`metrics`); traces only when OTEL_* configure export.
    Each part is made first, and the Telemetry once, whole."""
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or service})
    providers: list[_Provider] = []
    recorded, registry = disabled_metrics(), None
    if metrics:
        recorded, registry, meter_provider = _prometheus_metrics(resource)
        providers.append(meter_provider)
    tracer: Tracer = NoOpTracer()
    endpoint = _otlp_traces_endpoint(environ)
    if endpoint is not None:
        tracer, tracer_provider = _otlp_tracer(endpoint, resource, environ)
        providers.append(tracer_provider)
    return Telemetry(metrics=recorded, tracer=tracer, registry=registry, _shutdown=providers)


def _prometheus_metrics(resource: Resource) -> tuple[Metrics, CollectorRegistry, _Provider]:
    """Metrics read by a registry of our own: the exporter's reader for the SDK instruments,
    our collector for the histograms kept outside the SDK (histograms.py)."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider

    from federation.observability.prometheus import HistogramCollector, target_info

    registry = CollectorRegistry(auto_describe=True, target_info=target_info(resource.attributes))
    reader = PrometheusMetricReader(
        disable_target_info=True, registry=registry, scope_info_enabled=False
    )
    histograms = HistogramCollector()
    registry.register(histograms)
    provider = MeterProvider([reader], resource=resource, shutdown_on_exit=False)
    recorded = Metrics(provider.get_meter(SCOPE), histograms=histograms.histograms)
    return recorded, registry, provider


def _otlp_tracer(
    endpoint: str, resource: Resource, environ: Mapping[str, str]
) -> tuple[Tracer, _Provider]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(sampler=_sampler(environ), resource=resource, shutdown_on_exit=False)
    # Read from `environ` like the endpoint, so an in-process gateway needs no os.environ.
    delay = float(environ.get("OTEL_BSP_SCHEDULE_DELAY", "") or _BSP_DELAY_MS)
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint), schedule_delay_millis=delay)
    )
    return provider.get_tracer(SCOPE), provider


def _otlp_traces_endpoint(environ: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP traces URL the environment configures, or None (tracing off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "otlp":
        return None
    traces = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if traces:
        return traces  # the signal-specific variable is the full URL
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return base.rstrip("/") + "/v1/traces" if base else None


def _sampler(environ: Mapping[str, str]) -> Sampler:
    """OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, read from `environ` (the SDK would read
    os.environ): e.g. parentbased_traceidratio with 0.1 records a tenth of new traces, for a
    busy inbox where every span costs tens of microseconds."""
    name = environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    if name in ("traceidratio", "parentbased_traceidratio"):
        try:
            ratio = float(environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        except ValueError:
            raise ConfigError("OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1") from None
        if name == "traceidratio":
            return TraceIdRatioBased(ratio)
        return ParentBasedTraceIdRatio(ratio)
    fixed = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
    }
    if name not in fixed:
        raise ConfigError(f"OTEL_TRACES_SAMPLER {name!r} is not a sampler this gateway knows")
    return fixed[name]
