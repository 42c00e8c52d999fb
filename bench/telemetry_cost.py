"""Telemetry's own CPU cost per request, measured inside one process: the real request
middleware (observe_requests) around a handler that records what the accept path records (a key
lookup, a signature check, the job's trace stamp), with each configuration's real Telemetry, in
rounds that rotate the configurations. Steadier than bench/telemetry.py's gateway CPU ratio on a
shared machine (one process, the same moments), but it sees only the telemetry calls themselves.

Two figures: the event loop's thread CPU per request, over telemetry off (the export thread is
left out: its work lags the requests), and what the OTLP exporter spends encoding one recorded
span, which the export thread pays for each span the sampler keeps.

Run: python -m bench.telemetry_cost [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanKind

from bench.common import spread
from bench.telemetry import otlp_sink
from federation.observability import tracing
from federation.observability.setup import Telemetry, build_telemetry
from federation.web.appkeys import TELEMETRY
from federation.web.metrics_routes import observe_requests

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADERS = {"Host": "gw.example", "Content-Type": "application/activity+json", "Date": "x"}


def configurations(sink: str) -> dict[str, Telemetry]:
    traced = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink}
    sampled = {**traced, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}
    sampled["OTEL_TRACES_SAMPLER_ARG"] = "0.1"
    return {
        "off": build_telemetry("bench", metrics=False, environ={}),
        "metrics": build_telemetry("bench", metrics=True, environ={}),
        "metrics + tracing": build_telemetry("bench", metrics=True, environ=traced),
        "metrics + tracing 1/10": build_telemetry("bench", metrics=True, environ=sampled),
    }


async def request_for(telemetry: Telemetry) -> tuple[web.Request, Handler]:
    """A POST /inbox routed as the gateway routes it, and the accept path's telemetry calls."""
    app = web.Application()
    app[TELEMETRY] = telemetry

    async def accept(request: web.Request) -> web.StreamResponse:
        telemetry.metrics.key_lookup("hit")
        telemetry.metrics.signature_checked("verified", None, 0.4)
        tracing.stamped({"activity": {}})
        return web.Response(status=202)

    app.router.add_post("/inbox", accept)
    app.freeze()
    request = make_mocked_request("POST", "/inbox", headers=HEADERS, app=app)
    match = await app.router.resolve(request)
    match.add_app(app)
    match.freeze()
    request._match_info = match  # what aiohttp sets once it has routed a request
    return request, accept


async def per_request(configs: dict[str, Telemetry], rounds: int, n: int) -> dict[str, list[float]]:
    prepared = {name: await request_for(t) for name, t in configs.items()}
    cost: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            request, handler = prepared[name]
            started = time.thread_time()
            for _ in range(n):
                await observe_requests(request, handler)
            cost[name].append((time.thread_time() - started) / n * 1e6)
    return cost


def encoding_us(spans: int = 512, rounds: int = 5) -> float:
    """The OTLP exporter's encoding of one server span like the gateway's, in µs."""
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    tracer = provider.get_tracer("federation")
    made: list[ReadableSpan] = []
    for _ in range(spans):
        with tracer.start_as_current_span("POST /inbox", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.response.status_code", 202)
        if isinstance(span, ReadableSpan):
            made.append(span)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        encode_spans(made).SerializeToString()
        times.append((time.perf_counter() - started) / len(made) * 1e6)
    provider.shutdown()
    return spread(times).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=3000, help="per configuration and round")
    args = parser.parse_args()
    # Requests come far faster here than an export thread drains them, so the span queue
    # overflows now and then (its warning is noise: encoding is measured on its own below).
    logging.getLogger("opentelemetry.sdk._shared_internal").setLevel(logging.ERROR)
    with otlp_sink() as sink:
        configs = configurations(sink)
        try:
            cost = asyncio.run(per_request(configs, args.rounds, args.requests))
        finally:
            for telemetry in configs.values():
                telemetry.shutdown()
    off = spread(cost["off"]).median
    for name, values in cost.items():
        s = spread(values)
        print(
            f"{name:24s} {s.median:6.1f} µs/request on the event loop ({s.low:.1f}-{s.high:.1f})"
            f", {s.median - off:+6.1f} over off"
        )
    print(f"OTLP encoding of one recorded span (export thread): {encoding_us():.1f} µs")


if __name__ == "__main__":
    main()
