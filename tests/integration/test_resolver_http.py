"""The backend-facing resolve API (GET/POST /backend/v1/resolve) over real HTTP: a gateway with
the real resolver, SQLite store and transport, a reference backend, and a peer on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.activities import AS_MEDIA_TYPE, Block, block_to_object
from federation.backend.client import BackendClient
from federation.domains import DomainPolicy
from federation.http.transport import Transport, make_session
from federation.refbackend.app import create_backend_app
from federation.refbackend.reporter import ReporterSettings
from federation.resolve.cache import RemoteCache
from federation.resolve.resolver import Resolver
from federation.signatures import SigningKey
from federation.storage import SqliteStore
from federation.urn import BlockUrn
from federation.web import resolve_routes
from federation.web.appkeys import CLOCK, RESOLVER, SETTINGS
from federation.web.problems import problem_middleware
from tests.support.servers import serve
from tests.support.transport import loopback_settings

pytestmark = pytest.mark.integration

TOKEN = "backend-secret"
GATEWAY = "gateway.test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def peer_app(hits: Counter[str], authority: list[str]) -> web.Application:
    """A peer that has a public block under every id except those starting 'gone-'."""

    async def serve_block(request: web.Request) -> web.StreamResponse:
        local_id = request.match_info["id"]
        hits[local_id] += 1
        if local_id.startswith("gone-"):
            return web.Response(status=410)
        stamp = datetime(2026, 1, 1, tzinfo=UTC)
        block = Block(
            id=local_id, kind="note", title=local_id, content="", author="bob",
            visibility="public", created_at=stamp, updated_at=stamp,
        )  # fmt: skip
        host = authority[0]
        obj = block_to_object(block, base_url=f"http://{host}", authority=host, scheme="http")
        return web.Response(body=json.dumps(obj).encode(), content_type=AS_MEDIA_TYPE)

    app = web.Application()
    app.router.add_get("/blocks/{id}", serve_block)
    return app


@dataclass
class Setup:
    gateway: str
    backend: str
    peer: str
    hits: Counter[str]
    http: aiohttp.ClientSession

    async def resolve_get(self, urn: str, headers: dict[str, str] | None = None) -> Any:
        async with self.http.get(
            f"{self.gateway}/backend/v1/resolve",
            params={"urn": urn},
            headers=AUTH if headers is None else headers,
        ) as resp:
            return resp.status, resp.content_type, await resp.json()

    async def resolve_post(self, body: Any, headers: dict[str, str] | None = None) -> Any:
        async with self.http.post(
            f"{self.gateway}/backend/v1/resolve",
            data=body if isinstance(body, bytes) else json.dumps(body).encode(),
            headers=AUTH if headers is None else headers,
        ) as resp:
            return resp.status, resp.content_type, await resp.json()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    settings = loopback_settings(tmp_path, GATEWAY, backend_token=TOKEN)
    quiet = ReporterSettings(idle_poll=3600, initial_backoff=3600, request_timeout=0.5)
    backend_app = create_backend_app(settings, gateway_url="http://127.0.0.1:1", reporter=quiet)
    hits: Counter[str] = Counter()
    peer_authority: list[str] = []
    store = SqliteStore(tmp_path / "gateway.sqlite3")
    await store.open()
    async with (
        aiohttp.ClientSession() as http,
        make_session(settings) as fed_session,
        serve(backend_app) as backend,
        serve(peer_app(hits, peer_authority)) as peer,
    ):
        peer_authority.append(peer)
        key = SigningKey(f"http://{GATEWAY}/actor#main-key", Ed25519PrivateKey.generate())
        transport = Transport(session=fed_session, settings=settings, key=key, hosts=store)
        client = BackendClient(session=http, base_url=f"http://{backend}", token=TOKEN)
        app = web.Application(middlewares=[problem_middleware])
        app[SETTINGS] = settings
        app[CLOCK] = time.time
        app[RESOLVER] = Resolver(
            cache=RemoteCache(store=store, settings=settings, clock=time.time),
            policy=DomainPolicy(store, settings),
            transport=transport,
            backend=client,
            settings=settings,
            clock=time.time,
        )
        app.router.add_routes(resolve_routes.routes)
        async with serve(app) as gateway:
            yield Setup(f"http://{gateway}", f"http://{backend}", peer, hits, http)
    await store.close()


async def test_token_is_required(setup: Setup) -> None:
    urn = f"urn:block:{setup.peer}:x"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        status, ctype, body = await setup.resolve_get(urn, headers)
        assert (status, ctype) == (401, "application/problem+json")
        assert body["status"] == 401
        status, _, _ = await setup.resolve_post({"urns": [urn]}, headers)
        assert status == 401
    assert setup.hits["x"] == 0


async def test_get_resolves_a_remote_urn(setup: Setup) -> None:
    urn = f"urn:block:{setup.peer}:first"
    status, ctype, body = await setup.resolve_get(urn)
    assert (status, ctype) == (200, "application/json")
    assert body["urn"] == urn and body["status"] == "ok" and body["cached"] is False
    assert body["block"]["title"] == "first" and body["block"]["origin"] == setup.peer
    _, _, again = await setup.resolve_get(urn)
    assert again["cached"] is True and setup.hits["first"] == 1


async def test_every_status_is_a_200(setup: Setup) -> None:
    gone = await setup.resolve_get(f"urn:block:{setup.peer}:gone-1")
    missing = await setup.resolve_get(f"urn:block:{GATEWAY}:nothing")
    assert (gone[0], gone[2]["status"]) == (200, "gone")
    assert (missing[0], missing[2]["status"]) == (200, "not_found")


async def test_local_urn_comes_from_the_backend(setup: Setup) -> None:
    async with setup.http.post(
        f"{setup.backend}/api/v1/blocks", json={"id": "mine", "title": "Mine"}, headers=AUTH
    ) as resp:
        assert resp.status == 201
    status, _, body = await setup.resolve_get(f"urn:block:{GATEWAY}:mine")
    assert (status, body["status"], body["block"]["title"]) == (200, "ok", "Mine")


@pytest.mark.parametrize("urn", ["", "urn:block:no-id", "urn:other:x:y", "urn:block:Bad_Host:x"])
async def test_malformed_urn_is_a_400_naming_it(setup: Setup, urn: str) -> None:
    status, ctype, body = await setup.resolve_get(urn)
    assert (status, ctype) == (400, "application/problem+json")
    if urn:
        assert body["urn"] == urn


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "urns"),
        ({"urns": "urn:block:a.example:x"}, "urns"),
        ({"urns": [1]}, "urns.0"),
        ({"urns": []}, "urns"),
        ({"urns": ["urn:block:a.example:x", "nope"]}, "urns.1"),
        ({"urns": ["urn:block:a.example:x"], "extra": 1}, "extra"),
    ],
)
async def test_bad_batch_body_is_a_422_naming_the_field(
    setup: Setup, body: Any, field: str
) -> None:
    status, ctype, problem = await setup.resolve_post(body)
    assert (status, ctype) == (422, "application/problem+json")
    assert field in [e["field"] for e in problem["errors"]]
    assert sum(setup.hits.values()) == 0  # nothing fetched for a rejected batch


async def test_non_json_body_is_a_400(setup: Setup) -> None:
    status, _, _ = await setup.resolve_post(b"{not json")
    assert status == 400


async def test_batch_of_500_keeps_order(setup: Setup) -> None:
    names = [f"b{n}" if n % 7 else f"gone-{n}" for n in range(490)]
    urns = [str(BlockUrn(setup.peer, name)) for name in names]
    urns += urns[:10]  # duplicates: answered, fetched once
    status, _, body = await setup.resolve_post({"urns": urns})
    assert status == 200
    results = body["results"]
    assert [r["urn"] for r in results] == urns
    expected = ["gone" if name.startswith("gone-") else "ok" for name in names + names[:10]]
    assert [r["status"] for r in results] == expected
    assert all(r["block"]["title"] == n for r, n in zip(results, names, strict=False) if r["block"])
    assert max(setup.hits.values()) == 1 and len(setup.hits) == 490


async def test_batch_over_the_limit_is_refused(setup: Setup) -> None:
    urns = [f"urn:block:{setup.peer}:n{n}" for n in range(501)]
    status, ctype, _ = await setup.resolve_post({"urns": urns})
    assert (status, ctype) == (413, "application/problem+json")
    assert sum(setup.hits.values()) == 0
