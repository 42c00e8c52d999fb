"""Outgoing HTTP: a client span and a `traceparent` on every request, and the backend calls'
metrics, hooked into aiohttp sessions with TraceConfig (the clients' code is unchanged).

The `traceparent` header is added after the request was signed: neither draft-cavage nor RFC
9421 signatures cover headers they do not list, so it changes no signature.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import aiohttp
from opentelemetry.trace import SpanKind, use_span

from federation.observability import tracing
from federation.observability.setup import Telemetry


def backend_trace_config(telemetry: Telemetry) -> aiohttp.TraceConfig:
    """For the backend session: spans, `traceparent`, and call counts and latency."""
    return _trace_config(telemetry, measure=True)


def peer_trace_config(telemetry: Telemetry) -> aiohttp.TraceConfig:
    """For the peer session (deliveries, fetches): spans and `traceparent` only; deliveries
    and fetches are measured where their outcome is known."""
    return _trace_config(telemetry, measure=False)


def _trace_config(telemetry: Telemetry, *, measure: bool) -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()

    async def start(
        _: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        ctx.started = time.perf_counter()
        ctx.span = None
        if telemetry.tracing_on:
            ctx.span = telemetry.tracer.start_span(
                params.method,  # low-cardinality span name; the host is an attribute
                kind=SpanKind.CLIENT,
                attributes={
                    "http.request.method": params.method,
                    "server.address": str(params.url.host),
                },
            )
            with use_span(ctx.span, end_on_exit=False):
                tracing.inject(params.headers)

    async def end(
        _: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        status = params.response.status
        _finish(ctx, status, None)
        if measure:
            outcome = (
                "ok" if 200 <= status < 300 else "rejected" if 400 <= status < 500 else "error"
            )
            telemetry.metrics.backend_call(params.method, outcome, _elapsed_ms(ctx))

    async def failed(
        _: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        _finish(ctx, None, params.exception)
        if measure:
            telemetry.metrics.backend_call(params.method, "unreachable", _elapsed_ms(ctx))

    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.on_request_exception.append(failed)
    return config


def _finish(ctx: SimpleNamespace, status: int | None, exc: BaseException | None) -> None:
    span = getattr(ctx, "span", None)
    if span is None:
        return
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if exc is not None:
        span.record_exception(exc)
    span.end()


def _elapsed_ms(ctx: SimpleNamespace) -> float:
    return (time.perf_counter() - float(getattr(ctx, "started", time.perf_counter()))) * 1000.0
