"""GET /metrics (Prometheus text, bearer `metrics_token`) and the middleware that measures and
traces every request by its route template."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, set_span_in_context

from federation.observability import tracing
from federation.observability.setup import Telemetry
from federation.ports import Store
from federation.web.appkeys import CLOCK, SETTINGS, STORE, TELEMETRY
from federation.web.auth import require_bearer
from federation.web.problems import problem, problem_middleware

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The method is the client's to choose ("FOO" is a valid token): only these keep their name.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# The classic text format, which generate_latest() writes and every Prometheus 2.x parses.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


async def metrics_response(
    request: web.Request, telemetry: Telemetry, token: str, store: Store
) -> web.Response:
    """The exposition, for the main listener and for the separate metrics listener."""
    if not token or not telemetry.metrics_on:
        raise problem(404, "Not found", "metrics are off here: set metrics_token to serve them")
    require_bearer(request, token, "metrics")
    # The gauges are read from the store now, so each scrape sees the current state.
    telemetry.metrics.set_queue_depth(await store.queue_depth())
    unavailable = await store.list_hosts(unavailable_only=True)
    telemetry.metrics.set_unavailable_hosts([health.host for health in unavailable])
    now = request.app.get(CLOCK, time.time)()
    telemetry.metrics.set_oldest_deliveries(await store.oldest_deliveries(), now)
    return web.Response(body=telemetry.render(), headers={"Content-Type": TEXT_FORMAT})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    return await metrics_response(request, app[TELEMETRY], app[SETTINGS].metrics_token, app[STORE])


def route_template(request: web.Request) -> str:
    """ "/blocks/{id}", never "/blocks/b1": a raw path would be one series per block."""
    resource = request.match_info.route.resource
    if request.match_info.http_exception is not None or resource is None:
        return UNMATCHED
    return resource.canonical


@web.middleware
async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: sees the final status, problem+json answers included."""
    telemetry = request.app[TELEMETRY]
    route = route_template(request)
    method = request.method if request.method in _METHODS else "other"
    started = time.perf_counter()
    status = 500
    try:
        if not telemetry.tracing_on:
            response = await handler(request)
        else:
            response = await _traced(telemetry, request, handler, f"{method} {route}")
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        telemetry.metrics.http_request(route, method, status, time.perf_counter() - started)


async def _traced(
    telemetry: Telemetry, request: web.Request, handler: Handler, name: str
) -> web.StreamResponse:
    """`handler` inside a server span continuing the request's `traceparent`. The span is made
    current by attaching it and closed by its own context manager (which records an escaping
    exception and ends it) rather than by start_as_current_span, whose generator-based context
    managers cost about 5 µs more per request: a quarter of what a span the sampler drops
    costs in all (bench/telemetry.py)."""
    span = telemetry.tracer.start_span(name, tracing.extract(request.headers), SpanKind.SERVER)
    token = otel_context.attach(set_span_in_context(span))
    try:
        with span:
            response = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
    finally:
        otel_context.detach(token)
    return response


def metrics_app(telemetry: Telemetry, token: str, store: Store) -> web.Application:
    """The separate metrics listener (`metrics_listen_port`): GET /metrics and nothing else."""
    app = web.Application(middlewares=[problem_middleware])

    async def serve(request: web.Request) -> web.Response:
        return await metrics_response(request, telemetry, token, store)

    app.router.add_get("/metrics", serve)
    return app
