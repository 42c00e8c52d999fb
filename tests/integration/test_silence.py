"""A silenced domain between two real instances on 127.0.0.1: it still federates, but its
follows wait for the admin and its blocks reach the backend marked limited; noop enforces
nothing. Both through the one domain policy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from federation.records import Direction, FollowState
from tests.integration.test_follow_endings import admin, backend_call
from tests.support.cluster import until
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration


class Inbound:
    """What reached a backend's POST /api/v1/inbound, notification by notification."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []

        @web.middleware
        async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
            if request.method == "POST" and request.path == "/api/v1/inbound":
                body = json.loads(await request.read())
                self.notes += body if isinstance(body, list) else [body]
            response: web.StreamResponse = await handler(request)
            return response

        self.middleware = middleware

    def upsert_of(self, title: str) -> dict[str, Any] | None:
        for note in self.notes:
            if note["type"] == "remote_block.upsert" and note["block"]["title"] == title:
                return note
        return None


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Running, Running, Inbound]]:
    seen = Inbound()
    async with (
        running(settings_for(tmp_path, "alpha")) as alpha,
        running(settings_for(tmp_path, "beta"), backend_middlewares=[seen.middleware]) as beta,
    ):
        yield alpha, beta, seen


async def test_a_silenced_domain_federates_limited(pair: tuple[Running, Running, Inbound]) -> None:
    alpha, beta, seen = pair
    body = {"domain": alpha.settings.domain, "reason": "noisy", "severity": "silence"}
    status, result = await admin(beta, "POST", "/blocks", body)
    assert status == 201 and result["block"]["severity"] == "silence"
    assert result["follows_dropped"] == 0  # a silence cuts no tie

    # beta is open, but alpha is silenced there: its follow waits for beta's admin.
    await alpha.follow(beta)
    await until(lambda: beta.has_relation(Direction.FOLLOWER, alpha, FollowState.PENDING))
    status, _ = await admin(beta, "POST", "/followers/approve", {"actor": f"{alpha.url}/actor"})
    assert status == 200

    await beta.follow(alpha)  # alpha is open: accepted, and alpha delivers to beta
    await until(lambda: beta.has_relation(Direction.FOLLOWING, alpha, FollowState.ACCEPTED))
    await backend_call(alpha, "POST", "/api/v1/blocks", {"title": "loud", "visibility": "public"})
    note = await until(lambda: _async(seen.upsert_of("loud")))
    assert note["limited"] is True
    assert (await host_report(beta, alpha))["blocked"] is False  # silenced is not blocked

    # noop: recorded, nothing enforced.
    body = {"domain": alpha.settings.domain, "severity": "noop"}
    assert (await admin(beta, "POST", "/blocks", body))[0] == 201
    await backend_call(alpha, "POST", "/api/v1/blocks", {"title": "calm", "visibility": "public"})
    note = await until(lambda: _async(seen.upsert_of("calm")))
    assert note["limited"] is False

    body = {"domain": alpha.settings.domain, "severity": "suspend"}
    assert (await admin(beta, "POST", "/blocks", body))[0] == 201
    assert (await host_report(beta, alpha))["blocked"] is True


async def host_report(node: Running, other: Running) -> dict[str, Any]:
    _, hosts = await admin(node, "GET", f"/hosts?host={other.settings.domain}")
    [report] = hosts["items"]
    return dict(report)


async def _async(value: Any) -> Any:
    return value
