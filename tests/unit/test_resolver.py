"""The resolver against a real SqliteStore, real peers on 127.0.0.1 and the reference backend.

Peers are tiny aiohttp apps serving crafted objects; some of them play hostile peers.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.activities import AS_MEDIA_TYPE, Block, block_to_object, object_to_block
from federation.backend.client import BackendClient
from federation.config import Settings
from federation.domains import DomainPolicy
from federation.errors import UrnError
from federation.http.transport import Transport, make_session
from federation.records import CacheState, DomainBlock
from federation.refbackend.app import create_backend_app
from federation.refbackend.reporter import ReporterSettings
from federation.resolve.cache import RemoteCache
from federation.resolve.resolver import Resolver, cache_entry_for
from federation.signatures import SigningKey
from federation.storage import SqliteStore
from federation.urn import BlockUrn
from federation.visibility import is_released
from tests.support.servers import serve
from tests.support.transport import loopback_settings

T0 = 1_750_000_000.0
TOKEN = "backend-secret"
GATEWAY = "gateway.test"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def block_object(authority: str, local_id: str, **changes: Any) -> dict[str, Any]:
    """A well-formed object as the peer at `authority` would render its block."""
    stamp = datetime.fromtimestamp(T0, UTC)
    block = Block(
        id=local_id,
        kind="note",
        title=f"title of {local_id}",
        content="content",
        author="alice",
        visibility="public",
        created_at=stamp,
        updated_at=stamp,
    )
    obj = block_to_object(block, base_url=f"http://{authority}", authority=authority, scheme="http")
    return {**obj, **changes}


def as_json(data: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), content_type=AS_MEDIA_TYPE, headers=headers)


class Peer:
    """A remote instance: /blocks/{id} answered by a per-id handler, every request counted."""

    def __init__(self) -> None:
        self.authority = ""
        self.hits: Counter[str] = Counter()
        self.requests: list[web.Request] = []
        self.handlers: dict[str, Handler] = {}
        self.delay = 0.0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/blocks/{id}", self._serve)
        return app

    def urn(self, local_id: str) -> str:
        return str(BlockUrn(self.authority, local_id))

    def url(self, local_id: str) -> str:
        return f"http://{self.authority}/blocks/{local_id}"

    def serve_block(self, local_id: str, etag: str | None = None) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            if etag and request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            headers = {"ETag": etag} if etag else None
            return as_json(block_object(self.authority, local_id), headers)

        self.handlers[local_id] = handler

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        local_id = request.match_info["id"]
        self.hits[local_id] += 1
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        handler = self.handlers.get(local_id)
        if handler is None:
            return web.Response(status=404)
        return await handler(request)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    cache = {"fresh_seconds": 600, "negative_seconds": 60}
    return loopback_settings(tmp_path, GATEWAY, backend_token=TOKEN, cache=cache)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    peer = Peer()
    async with serve(peer.app()) as authority:
        peer.authority = authority
        yield peer


@pytest.fixture
async def backend_url(settings: Settings) -> AsyncIterator[str]:
    quiet = ReporterSettings(idle_poll=3600, initial_backoff=3600, request_timeout=0.5)
    app = create_backend_app(settings, gateway_url="http://127.0.0.1:1", reporter=quiet)
    async with serve(app) as authority:
        yield f"http://{authority}"


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with make_session(settings) as session:
        yield session


@pytest.fixture
async def resolver(
    settings: Settings,
    store: SqliteStore,
    session: aiohttp.ClientSession,
    backend_url: str,
    clock: FakeClock,
) -> Resolver:
    key = SigningKey(f"http://{GATEWAY}/actor#main-key", Ed25519PrivateKey.generate())
    transport = Transport(session=session, settings=settings, key=key, hosts=store, clock=clock)
    backend = BackendClient(session=session, base_url=backend_url, token=TOKEN, timeout=2.0)
    return Resolver(
        cache=RemoteCache(store=store, settings=settings, clock=clock),
        policy=DomainPolicy(store, settings),
        transport=transport,
        backend=backend,
        settings=settings,
        clock=clock,
    )


async def create_local_block(backend_url: str, **fields: Any) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{backend_url}/api/v1/blocks",
            json={"title": "local", **fields},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as resp:
            assert resp.status == 201, await resp.text()
            return str((await resp.json())["id"])


# ---------------------------------------------------------------- cache and single-flight


async def test_second_resolve_is_answered_from_the_cache(resolver: Resolver, peer: Peer) -> None:
    peer.serve_block("b1")
    first = await resolver.resolve(peer.urn("b1"))
    second = await resolver.resolve(peer.urn("b1"))
    assert first.status == second.status == "ok"
    assert first.block is not None and first.block["title"] == "title of b1"
    assert first.block["urn"] == peer.urn("b1")
    assert (first.cached, second.cached) == (False, True)
    assert second.block == first.block
    assert peer.hits["b1"] == 1


async def test_concurrent_resolves_of_one_urn_share_one_fetch(
    resolver: Resolver, peer: Peer
) -> None:
    peer.serve_block("hot")
    peer.delay = 0.05
    results = await asyncio.gather(*(resolver.resolve(peer.urn("hot")) for _ in range(200)))
    assert {r.status for r in results} == {"ok"}
    assert peer.hits["hot"] == 1


async def test_stale_entry_is_revalidated_with_its_etag(
    resolver: Resolver, peer: Peer, store: SqliteStore, clock: FakeClock
) -> None:
    peer.serve_block("v", etag='"v1"')
    await resolver.resolve(peer.urn("v"))
    clock.now += 601  # past fresh_seconds
    again = await resolver.resolve(peer.urn("v"))
    assert again.status == "ok" and again.cached and again.block is not None
    assert peer.requests[-1].headers["If-None-Match"] == '"v1"'
    entry = await store.get_cached(peer.urn("v"))
    assert entry is not None and entry.state is CacheState.OK
    assert entry.fetched_at == clock.now and entry.expires_at == clock.now + 600
    await resolver.resolve(peer.urn("v"))
    assert peer.hits["v"] == 2  # the refreshed entry is fresh again


async def test_stale_entry_is_replaced_when_the_peer_has_a_new_version(
    resolver: Resolver, peer: Peer, clock: FakeClock
) -> None:
    peer.serve_block("edit", etag='"v1"')
    await resolver.resolve(peer.urn("edit"))

    async def edited(_: web.Request) -> web.StreamResponse:
        return as_json(block_object(peer.authority, "edit", name="edited"), {"ETag": '"v2"'})

    peer.handlers["edit"] = edited
    clock.now += 601
    result = await resolver.resolve(peer.urn("edit"))
    assert result.status == "ok" and not result.cached and result.block is not None
    assert result.block["title"] == "edited"


async def test_stale_entry_is_served_while_its_peer_is_down(
    resolver: Resolver, store: SqliteStore, clock: FakeClock, settings: Settings
) -> None:
    dead = dead_authority()
    urn = BlockUrn(dead, "kept")
    good = block_object(dead, "kept")
    block = object_to_block(good, expected_url=urn.to_url("http"))
    await store.put_cached(cache_entry_for(block, clock.now - 700, 600, etag='"e"'))
    result = await resolver.resolve(str(urn))
    assert result.status == "ok" and result.cached and result.block is not None
    entry = await store.get_cached(str(urn))
    assert entry is not None and entry.state is CacheState.OK
    assert entry.expires_at == clock.now + 60  # asks again after negative_seconds


# ---------------------------------------------------------------- hostile peers


def dead_authority() -> str:
    """host:port of a loopback port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.fixture
async def other_peer() -> AsyncIterator[Peer]:
    other = Peer()
    async with serve(other.app()) as authority:
        other.authority = authority
        yield other


def install_hostile(peer: Peer, other: Peer) -> None:
    async def spoof_id(_: web.Request) -> web.StreamResponse:
        return as_json(block_object(other.authority, "spoof-id"))

    async def redirect(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(other.url("redirect"))

    async def same_host_other_block(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(peer.url("decoy"))

    async def html(_: web.Request) -> web.StreamResponse:
        body = json.dumps(block_object(peer.authority, "html")).encode()
        return web.Response(body=body, content_type="text/html")

    async def huge(_: web.Request) -> web.StreamResponse:
        obj = block_object(peer.authority, "huge", content="x" * (5 * 1024 * 1024))
        return as_json(obj)

    async def deep(_: web.Request) -> web.StreamResponse:
        return as_json(block_object(peer.authority, "deep", extra=_nested(200)))

    other.serve_block("redirect")
    peer.serve_block("decoy")
    peer.handlers.update(
        {
            "spoof-id": spoof_id,
            "redirect": redirect,
            "moved": same_host_other_block,
            "html": html,
            "huge": huge,
            "deep": deep,
        }
    )


@pytest.mark.parametrize(
    ("local_id", "reason"),
    [
        ("spoof-id", "is not the URL it came from"),
        ("redirect", "redirected to another host"),
        ("moved", "the object is another block"),
        ("html", "not an ActivityStreams document"),
        ("huge", "too_large"),
        ("deep", "nested deeper than 32 levels"),
    ],
)
async def test_hostile_answers_are_refused_and_only_negatively_cached(
    resolver: Resolver,
    peer: Peer,
    other_peer: Peer,
    store: SqliteStore,
    local_id: str,
    reason: str,
) -> None:
    install_hostile(peer, other_peer)
    result = await resolver.resolve(peer.urn(local_id))
    assert result.status == "error" and result.block is None
    assert result.error is not None and reason in result.error
    entry = await store.get_cached(peer.urn(local_id))
    assert entry is not None and entry.state is CacheState.FAILED and entry.block is None
    # Nothing the hostile peer sent was cached as good, under any name.
    for name in (peer.urn("decoy"), other_peer.urn("redirect"), other_peer.urn("spoof-id")):
        assert await store.get_cached(name) is None


async def test_failure_is_cached_for_negative_seconds(
    resolver: Resolver, peer: Peer, clock: FakeClock
) -> None:
    async def broken(_: web.Request) -> web.StreamResponse:
        return web.Response(status=500)

    peer.handlers["flaky"] = broken
    first = await resolver.resolve(peer.urn("flaky"))
    second = await resolver.resolve(peer.urn("flaky"))
    assert first.status == second.status == "error"
    assert first.error is not None and "500" in first.error
    assert (first.cached, second.cached) == (False, True)
    assert peer.hits["flaky"] == 1
    clock.now += 61
    peer.serve_block("flaky")
    third = await resolver.resolve(peer.urn("flaky"))
    assert third.status == "ok" and peer.hits["flaky"] == 2


async def test_unreachable_peer_is_an_error(resolver: Resolver) -> None:
    result = await resolver.resolve(str(BlockUrn(dead_authority(), "x")))
    assert result.status == "error" and result.error is not None
    assert result.error.startswith("connection")


@pytest.mark.parametrize(
    ("status", "outcome", "state", "ttl"),
    [
        # 404: absent, or private (the two look the same): not_found, kept negative_seconds.
        (404, "not_found", CacheState.NOT_FOUND, 60),
        # 410: deleted: gone, kept as long as a block.
        (410, "gone", CacheState.GONE, 600),
    ],
)
async def test_missing_remote_block_is_not_found_and_deleted_one_is_gone(
    resolver: Resolver,
    peer: Peer,
    store: SqliteStore,
    clock: FakeClock,
    status: int,
    outcome: str,
    state: CacheState,
    ttl: int,
) -> None:
    async def answer(_: web.Request) -> web.StreamResponse:
        return web.Response(status=status)

    peer.handlers["old"] = answer
    result = await resolver.resolve(peer.urn("old"))
    assert (result.status, result.block) == (outcome, None)
    entry = await store.get_cached(peer.urn("old"))
    assert entry is not None and entry.state is state
    assert entry.expires_at == clock.now + ttl
    assert (await resolver.resolve(peer.urn("old"))).status == outcome
    assert peer.hits["old"] == 1


async def test_remote_tombstone_is_gone(resolver: Resolver, peer: Peer, store: SqliteStore) -> None:
    async def answer(_: web.Request) -> web.StreamResponse:
        url = f"http://{peer.authority}/blocks/old"
        return as_json({"id": url, "type": "Tombstone"})

    peer.handlers["old"] = answer
    result = await resolver.resolve(peer.urn("old"))
    assert (result.status, result.block) == ("gone", None)
    entry = await store.get_cached(peer.urn("old"))
    assert entry is not None and entry.state is CacheState.GONE


async def test_blocked_domain_is_never_fetched(
    resolver: Resolver, peer: Peer, store: SqliteStore
) -> None:
    peer.serve_block("b")
    await store.add_block(DomainBlock(domain=peer.authority, reason="spam", created_at=T0))
    result = await resolver.resolve(peer.urn("b"))
    assert (result.status, result.error) == ("error", "domain blocked")
    assert peer.hits["b"] == 0


# ---------------------------------------------------------------- local URNs, batches, input


@pytest.mark.parametrize(
    ("visibility", "until", "released"),
    [
        ("public", None, True),
        ("private", None, False),
        ("embargoed", T0 - 1, True),
        ("embargoed", T0, True),  # the embargo ends at embargo_until itself
        ("embargoed", T0 + 1, False),
    ],
)
def test_is_released(visibility: str, until: float | None, released: bool) -> None:
    stamp = datetime.fromtimestamp(T0, UTC)
    block = Block(
        id="x",
        kind="note",
        title="",
        content="",
        author="a",
        visibility=visibility,
        embargo_until=None if until is None else datetime.fromtimestamp(until, UTC),
        created_at=stamp,
        updated_at=stamp,
    )
    assert is_released(block, T0) is released


async def test_local_urn_is_read_from_the_backend(resolver: Resolver, backend_url: str) -> None:
    block_id = await create_local_block(backend_url, title="ours", references=["other"])
    result = await resolver.resolve(f"urn:block:{GATEWAY}:{block_id}")
    assert result.status == "ok" and result.block is not None and not result.cached
    assert result.block["title"] == "ours"
    assert result.block["urn"] == f"urn:block:{GATEWAY}:{block_id}"
    assert result.block["object_url"] == f"http://{GATEWAY}/blocks/{block_id}"
    assert result.block["references"] == [f"urn:block:{GATEWAY}:other"]


@pytest.mark.parametrize(
    "fields",
    [
        {"visibility": "private"},
        {"visibility": "embargoed", "embargo_until": "2999-01-01T00:00:00Z"},
    ],
)
async def test_unreleased_local_block_looks_missing(
    resolver: Resolver, backend_url: str, fields: dict[str, str]
) -> None:
    block_id = await create_local_block(backend_url, **fields)
    hidden = await resolver.resolve(f"urn:block:{GATEWAY}:{block_id}")
    missing = await resolver.resolve(f"urn:block:{GATEWAY}:no-such-block")
    assert hidden.status == missing.status == "not_found"
    assert (hidden.block, hidden.error) == (missing.block, missing.error) == (None, None)


async def test_ended_embargo_releases_a_local_block(
    resolver: Resolver, backend_url: str, clock: FakeClock
) -> None:
    until = datetime.fromtimestamp(clock.now, UTC) - timedelta(seconds=1)
    block_id = await create_local_block(
        backend_url, visibility="embargoed", embargo_until=until.isoformat()
    )
    assert (await resolver.resolve(f"urn:block:{GATEWAY}:{block_id}")).status == "ok"


async def test_resolve_many_keeps_order_and_fetches_duplicates_once(
    resolver: Resolver, peer: Peer
) -> None:
    for name in ("a", "b"):
        peer.serve_block(name)
    urns = [peer.urn("a"), peer.urn("b"), peer.urn("missing"), peer.urn("a"), peer.urn("b")]
    results = await resolver.resolve_many(urns)
    assert [r.urn for r in results] == urns
    assert [r.status for r in results] == ["ok", "ok", "not_found", "ok", "ok"]
    assert peer.hits == Counter({"a": 1, "b": 1, "missing": 1})


async def test_malformed_urn_raises(resolver: Resolver) -> None:
    with pytest.raises(UrnError):
        await resolver.resolve("urn:block:no-local-id")
    with pytest.raises(ValueError):
        await resolver.resolve_many(["urn:block:ok.example:x", "not a urn"])
