"""An OTLP/HTTP traces endpoint for tests: a gateway configured with the standard OTEL_*
variables exports its spans here, as it would to a real collector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.servers import serve_url


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root span
    name: str


class Collector:
    """Keeps every span exported to POST /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.app = web.Application()
        self.app.router.add_post("/v1/traces", self._traces)

    async def _traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                self.spans += [
                    Span(s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), s.name)
                    for s in scope.spans
                ]
        return web.Response(status=200, content_type="application/x-protobuf")

    def names_in(self, trace_id: str) -> set[str]:
        return {span.name for span in self.spans if span.trace_id == trace_id}

    def in_trace(self, trace_id: str) -> list[Span]:
        return [span for span in self.spans if span.trace_id == trace_id]


@asynccontextmanager
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    """(the collector, its base URL for OTEL_EXPORTER_OTLP_ENDPOINT)."""
    sink = Collector()
    async with serve_url(sink.app) as url:
        yield sink, url
