"""Which OTEL_* settings turn tracing on, and how it samples; metrics only when served."""

from __future__ import annotations

import pytest

from federation.errors import ConfigError
from federation.observability.setup import build_telemetry

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        (ENDPOINT, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, False),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_otel_variables_configure_an_exporter(
    environ: dict[str, str], on: bool
) -> None:
    telemetry = build_telemetry("t", metrics=False, environ=environ)
    try:
        assert telemetry.tracing_on is on
        assert not telemetry.metrics_on and telemetry.render() == b""
    finally:
        telemetry.shutdown()


@pytest.mark.parametrize(
    ("sampler", "recording"),
    [("always_off", False), ("parentbased_always_on", True), ("traceidratio", False)],
)
def test_the_sampler_is_read_from_the_same_environment(sampler: str, recording: bool) -> None:
    environ = {**ENDPOINT, "OTEL_TRACES_SAMPLER": sampler, "OTEL_TRACES_SAMPLER_ARG": "0"}
    telemetry = build_telemetry("t", metrics=False, environ=environ)
    try:
        with telemetry.tracer.start_as_current_span("x") as span:
            assert span.is_recording() is recording
    finally:
        telemetry.shutdown()


def test_an_unknown_sampler_or_ratio_stops_the_start_with_its_name() -> None:
    with pytest.raises(ConfigError, match="'sometimes'"):
        build_telemetry(
            "t", metrics=False, environ={**ENDPOINT, "OTEL_TRACES_SAMPLER": "sometimes"}
        )
    bad_ratio = {**ENDPOINT, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "x"}
    with pytest.raises(ConfigError, match="OTEL_TRACES_SAMPLER_ARG"):
        build_telemetry("t", metrics=False, environ=bad_ratio)
