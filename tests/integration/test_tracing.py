"""Traces across a real gateway: a peer's Follow carries a `traceparent`; the Accept the gateway
delivers back to the peer and the follow notification it sends its backend both carry the same
trace id (through two durable jobs), and the spans reach an OTLP/HTTP collector configured by
the standard OTEL_* variables. Without them no header is sent at all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.support.inproc import Running, running, settings_for
from tests.support.otlp import Collector, collector
from tests.support.peer import Peer, post, serve_peer

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def backend_headers(seen: list[dict[str, str]]) -> Any:
    """A middleware keeping the headers of every notification the backend receives."""

    @web.middleware
    async def keep(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/api/v1/inbound":
            seen.append(dict(request.headers))
        response: web.StreamResponse = await handler(request)
        return response

    return keep


async def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(0.05)
    return value


def follow(peer: Peer, gateway: Running) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(),
        "type": "Follow",
        "actor": peer.actor,
        "object": f"{gateway.url}/actor",
    }


@pytest.fixture
async def sink() -> AsyncIterator[tuple[Collector, str]]:
    async with collector() as found:
        yield found


async def follow_and_collect(
    tmp_path: Path, environ: dict[str, str]
) -> tuple[Peer, list[dict[str, str]]]:
    """A peer follows the gateway with a traceparent; (the peer, the backend's headers) once
    the Accept and the notification have arrived."""
    seen: list[dict[str, str]] = []
    settings = settings_for(tmp_path, "gw")
    async with (
        running(settings, environ=environ, backend_middlewares=[backend_headers(seen)]) as gw,
        serve_peer() as peer,
        aiohttp.ClientSession() as http,
    ):
        request = peer.signed_post(f"{gw.url}/inbox", follow(peer, gw))
        request.headers["traceparent"] = TRACEPARENT
        assert (await post(http, request))[0] == 202
        await wait_for(lambda: peer.received_headers and seen)
    return peer, seen


async def test_the_trace_of_an_inbound_follow_reaches_the_peer_and_the_backend(
    tmp_path: Path, sink: tuple[Collector, str]
) -> None:
    spans, url = sink
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    peer, seen = await follow_and_collect(tmp_path, environ)

    (accept,) = peer.received_headers  # the Accept, through the inbox job and a deliver job
    assert accept["traceparent"].split("-")[1] == TRACE_ID
    assert "traceparent" not in accept.get("Signature", "")  # sent, not signed
    (notified,) = seen  # follow.changed, through the inbox job and a backend job
    assert notified["traceparent"].split("-")[1] == TRACE_ID
    # The gateway's own spans were exported to the collector (flushed at shutdown).
    names = await wait_for(lambda: spans.names_in(TRACE_ID) >= {"job inbox", "job deliver"})
    assert names
    assert {"POST /inbox", "job backend"} <= spans.names_in(TRACE_ID)


async def test_without_otel_variables_nothing_is_traced_or_sent(tmp_path: Path) -> None:
    peer, seen = await follow_and_collect(tmp_path, {})
    assert "traceparent" not in peer.received_headers[0]
    assert "traceparent" not in seen[0]
