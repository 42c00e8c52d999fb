"""Traces of the outbound flows on real gateways, exported over OTLP/HTTP to a collector:
a block event -> its fan-out -> each delivery POST, and a resolve -> its fetch. Each request a
peer receives carries a `traceparent` naming the client span that sent it, and that span hangs,
span by span, from the `traceparent` the flow began with."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from tests.support.cluster import http_json
from tests.support.inproc import Running, running, settings_for
from tests.support.otlp import Collector, Span, collector
from tests.support.peer import Peer, serve_peer
from tests.support.records import accepted_follow

pytestmark = pytest.mark.integration

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"  # the span of whoever started the flow (the backend)
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
PUBLIC = {"title": "t", "visibility": "public"}


async def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s (last: {value!r})")
        await asyncio.sleep(0.05)
    return value


def parent_of(traceparent: str) -> tuple[str, str]:
    """(trace id, the sending span's id) of a `traceparent` header."""
    _, trace_id, span_id, _ = traceparent.split("-")
    return trace_id, span_id


def chain(spans: list[Span], span_id: str) -> list[str]:
    """The names from the span `span_id` up to the root of what was collected, then the id
    of the parent outside it (the caller's span)."""
    by_id = {span.span_id: span for span in spans}
    names: list[str] = []
    while span_id in by_id:
        names.append(by_id[span_id].name)
        span_id = by_id[span_id].parent_span_id
    return [*names, span_id]


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Collector, str]]:
    async with collector() as found:
        yield found


def traced(url: str) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_BSP_SCHEDULE_DELAY": "50"}


async def backend(node: Running, method: str, path: str, body: Any = None) -> Any:
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}{path}"
    return await asyncio.to_thread(http_json, method, url, body, token=node.settings.backend_token)


async def follower(node: Running, peer: Peer) -> None:
    await node.instance.store.put_follow(accepted_follow(peer.actor))


def traced_posts(peer: Peer) -> list[tuple[dict[str, Any], str]]:
    """(activity, sending span id) of each POST the peer received within TRACE_ID."""
    found = []
    for body, headers in zip(peer.received, peer.received_headers, strict=True):
        trace_id, span_id = parent_of(headers.get("traceparent", "00-x-x-00"))
        if trace_id == TRACE_ID:
            found.append((json.loads(body), span_id))
    return found


async def test_a_block_event_is_traced_through_the_fan_out_to_each_delivery_post(
    tmp_path: Path, sink: tuple[Collector, str]
) -> None:
    spans, url = sink
    async with (
        running(settings_for(tmp_path, "gw"), environ=traced(url)) as gw,
        serve_peer() as one,
        serve_peer() as two,
    ):
        for peer in (one, two):
            await follower(gw, peer)
        block = await backend(gw, "POST", "/api/v1/blocks", PUBLIC)
        # Its "created" event (the backend's own, in another trace) reaches both peers first.
        await wait_for(lambda: len(one.received) == len(two.received) == 1)

        event = {"event_id": "traced-1", "type": "updated", "block_id": block["id"]}
        async with aiohttp.ClientSession() as http:
            headers = {
                "Authorization": f"Bearer {gw.settings.backend_token}",
                "traceparent": TRACEPARENT,
            }
            url = f"{gw.url}/backend/v1/events"
            async with http.post(url, json={**event, "block": block}, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
        await wait_for(lambda: traced_posts(one) and traced_posts(two))

    (update_one, sender_one), (update_two, sender_two) = traced_posts(one) + traced_posts(two)
    assert update_one["type"] == update_two["type"] == "Update"
    assert sender_one != sender_two  # one delivery, one client span, per inbox
    expected = ["POST", "job deliver", "job event", "POST /backend/v1/events", CALLER_SPAN]
    for sender in (sender_one, sender_two):
        assert await wait_for(lambda s=sender: chain(spans.in_trace(TRACE_ID), s) == expected)


async def test_a_resolve_is_traced_to_the_fetch_the_origin_receives(
    tmp_path: Path, sink: tuple[Collector, str]
) -> None:
    spans, url = sink
    fetched: list[dict[str, str]] = []

    @web.middleware
    async def keep(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/blocks/"):
            fetched.append(dict(request.headers))
        response: web.StreamResponse = await handler(request)
        return response

    async with (
        running(settings_for(tmp_path, "alpha"), middlewares=[keep]) as alpha,
        running(settings_for(tmp_path, "beta"), environ=traced(url)) as beta,
        aiohttp.ClientSession() as http,
    ):
        block = await backend(
            alpha, "POST", "/api/v1/blocks", {"title": "t", "visibility": "public"}
        )
        urn = f"urn:block:{alpha.settings.domain}:{block['id']}"
        headers = {
            "Authorization": f"Bearer {beta.settings.backend_token}",
            "traceparent": TRACEPARENT,
        }
        resolve = f"{beta.url}/backend/v1/resolve?urn={quote(urn)}"
        async with http.get(resolve, headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"

    (fetch,) = fetched  # one fetch of the block at its origin
    trace_id, sender = parent_of(fetch["traceparent"])
    assert trace_id == TRACE_ID
    expected = ["GET", "resolve", "GET /backend/v1/resolve", CALLER_SPAN]
    assert await wait_for(lambda: chain(spans.in_trace(TRACE_ID), sender) == expected)
