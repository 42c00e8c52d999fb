"""Backend notifications in batches: the contract's array form of POST /api/v1/inbound at the
real reference backend, and the gateway's notifier grouping concurrent notifications into one
POST, falling back to one POST each for a backend that takes single notifications only (a tiny
stand-in server, recording what it is sent)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.backend.client import BackendClient, BackendRejected
from federation.backend.contract import InboundNotification
from federation.backend.notifications import BatchingPoster
from federation.config import load_settings
from federation.refbackend.app import create_backend_app
from tests.support.servers import serve_url as serve

TOKEN = "backend-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def follow(n: int, actor: str | None = None) -> dict[str, Any]:
    change = {
        "direction": "follower",
        "actor": actor or f"https://peer{n}.test/actor",
        "domain": f"peer{n}.test",
        "state": "accepted",
    }
    return {"id": f"n{n}", "type": "follow.changed", "urn": None, "block": None, "follow": change}


def note(n: int) -> InboundNotification:
    return InboundNotification.model_validate(follow(n))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def reference(tmp_path: Path) -> AsyncIterator[tuple[str, list[Any]]]:
    """The reference backend, with the bodies POSTed to its inbound route recorded."""
    settings = load_settings(
        domain="alpha.test", backend_token=TOKEN, backend_store=tmp_path / "b.sqlite3"
    )
    posted: list[Any] = []

    @web.middleware
    async def record(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
        if request.path.endswith("/inbound"):
            posted.append(json.loads(await request.read()))
        return await handler(request)

    app = create_backend_app(settings, gateway_url="http://127.0.0.1:9")
    app.middlewares.insert(0, record)  # instrumentation only: it changes nothing
    async with serve(app) as url:
        yield url, posted


async def followers(session: aiohttp.ClientSession, url: str) -> list[str]:
    async with session.get(f"{url}/api/v1/follows", headers=AUTH) as resp:
        return sorted(i["actor"] for i in (await resp.json())["items"])


async def test_the_reference_backend_applies_an_array_each_as_if_alone(
    session: aiohttp.ClientSession, reference: tuple[str, list[Any]]
) -> None:
    url, _ = reference
    client = BackendClient(session=session, base_url=url, token=TOKEN)
    notes = [InboundNotification.model_validate(follow(n)) for n in range(3)]
    await client.notify_many(notes)
    await client.notify_many(notes[:2])  # repeats are acknowledged and ignored
    assert await followers(session, url) == [f"https://peer{n}.test/actor" for n in range(3)]


async def test_an_array_with_a_malformed_item_is_a_422_and_nothing_is_stored(
    session: aiohttp.ClientSession, reference: tuple[str, list[Any]]
) -> None:
    url, _ = reference
    bad = {**follow(9), "follow": None}
    async with session.post(f"{url}/api/v1/inbound", json=[follow(1), bad], headers=AUTH) as resp:
        assert resp.status == 422, await resp.text()
        assert "follow" in (await resp.text())
    async with session.post(f"{url}/api/v1/inbound", json=[], headers=AUTH) as resp:
        assert resp.status == 422
    assert await followers(session, url) == []
    with pytest.raises(BackendRejected):
        await BackendClient(session=session, base_url=url, token=TOKEN).notify_many([])


async def test_concurrent_notifications_share_one_post(
    session: aiohttp.ClientSession, reference: tuple[str, list[Any]]
) -> None:
    url, posted = reference
    notifier = BatchingPoster(BackendClient(session=session, base_url=url, token=TOKEN))
    await asyncio.gather(*(notifier.post(note(n)) for n in range(5)))
    assert [len(body) for body in posted] == [5]  # one POST, an array of five
    await notifier.post(note(7))  # alone: posted as an object
    assert isinstance(posted[-1], dict)
    assert len(await followers(session, url)) == 6


async def test_a_backend_taking_single_notifications_gets_them_one_by_one(
    session: aiohttp.ClientSession,
) -> None:
    received: list[Any] = []
    arrays = [0]

    async def single_only(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if isinstance(body, list):
            arrays[0] += 1
            return web.json_response({"title": "expected an object"}, status=422)
        received.append(body["id"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/api/v1/inbound", single_only)
    async with serve(app) as url:
        notifier = BatchingPoster(BackendClient(session=session, base_url=url, token=TOKEN))
        first = [notifier.post(note(n)) for n in range(3)]
        await asyncio.gather(*first)
        assert received == ["n0", "n1", "n2"]  # each taken, in order
        await asyncio.gather(*(notifier.post(note(n)) for n in (3, 4)))
        assert received == ["n0", "n1", "n2", "n3", "n4"]
        assert arrays == [1]  # refused once: not sent an array again


async def test_each_notification_gets_its_own_verdict(session: aiohttp.ClientSession) -> None:
    async def refuses_n1(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if isinstance(body, list) or body["id"] == "n1":
            return web.json_response({"title": "no"}, status=422)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/api/v1/inbound", refuses_n1)
    async with serve(app) as url:
        notifier = BatchingPoster(BackendClient(session=session, base_url=url, token=TOKEN))
        results = await asyncio.gather(
            *(notifier.post(note(n)) for n in range(3)),
            return_exceptions=True,
        )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BackendRejected) and results[1].status == 422
