"""Traces: W3C trace context in and out of the gateway, and across its durable jobs.

A trace follows the work, not the process: an inbound request's context (its `traceparent`, or
a new trace) is stamped into the payload of the job it creates, under TRACE_KEY; the runner
opens the job's span as a child of it; HTTP calls made while the job runs (a delivery POST, a
notification to the backend, a fetch) carry a `traceparent` of their own span. So a peer's
activity, the job that handles it, the backend notification and the Accept delivered back all
share one trace id, across a crash and restart in between.

With tracing off (no OTLP exporter configured) the tracer is a no-op: no span is recorded,
nothing is stamped and no header is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACE_KEY = "trace"  # job payload key: {"traceparent": ..., "tracestate": ...}

_PROPAGATOR = TraceContextTextMapPropagator()


def inject(headers: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span, when one is recording."""
    _PROPAGATOR.inject(headers)


def extract(carrier: Mapping[str, str]) -> Context:
    """The context a `traceparent` names (an empty context when there is none or it is bad)."""
    return _PROPAGATOR.extract(carrier)


def stamped(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` with the current trace context added, so the job continues this trace.
    Unchanged when no span is active (tracing off): the payload stays as it always was."""
    if get_current_span() is INVALID_SPAN:
        return payload
    carrier: dict[str, str] = {}
    inject(carrier)
    return {**payload, TRACE_KEY: carrier} if carrier else payload


def job_context(carrier: object) -> Context | None:
    """The context of a job's trace stamp (what stamped() added; jobs.kinds.trace_stamp reads
    it back), or None."""
    if not isinstance(carrier, dict):
        return None
    return extract({str(k): str(v) for k, v in carrier.items()})
