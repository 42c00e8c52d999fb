"""resolve/cache.py is the one writer of the remote cache: a deletion learned from the origin's
410 (the resolver) and one learned from its Delete activity (the inbox) leave one entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.backend.client import BackendClient
from federation.backend.notifications import BackendNotifications
from federation.config import Settings
from federation.delivery.publisher import Publisher
from federation.domains import DomainPolicy
from federation.follows.machine import FollowMachine
from federation.follows.service import FollowService
from federation.http.transport import Transport, make_session
from federation.inbound.handlers import InboundProcessor
from federation.jobs.kinds import InboxPayload, new_job
from federation.jobs.outcomes import Done
from federation.records import CachedObject
from federation.resolve.cache import RemoteCache
from federation.resolve.resolver import Resolver
from federation.signatures import SigningKey
from federation.storage import SqliteStore
from federation.urn import BlockUrn
from tests.support.records import queued_job
from tests.support.servers import serve
from tests.support.transport import loopback_settings

NOW = 1_750_000_000.0
GATEWAY = "gateway.test"


def clock() -> float:
    return NOW


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return loopback_settings(tmp_path, GATEWAY, backend_token="t")


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    """A peer whose every block was deleted: each answers 410."""
    app = web.Application()

    async def deleted(_: web.Request) -> web.Response:
        return web.Response(status=410)

    app.router.add_get("/blocks/{id}", deleted)
    async with serve(app) as authority:
        yield authority


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with make_session(settings) as session:
        yield session


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """Two gateways' stores: one learns of the deletion by a 410, the other by a Delete."""
    pair = SqliteStore(tmp_path / "a.sqlite3"), SqliteStore(tmp_path / "b.sqlite3")
    for store in pair:
        await store.open()
    yield pair
    for store in pair:
        await store.close()


def transport_for(
    store: SqliteStore, settings: Settings, session: aiohttp.ClientSession
) -> Transport:
    key = SigningKey(f"http://{GATEWAY}/actor#main-key", Ed25519PrivateKey.generate())
    return Transport(session=session, settings=settings, key=key, hosts=store, clock=clock)


async def by_the_resolver(
    store: SqliteStore, settings: Settings, session: aiohttp.ClientSession, urn: str
) -> CachedObject | None:
    # The backend is never asked: the URN is a remote one.
    backend = BackendClient(session=session, base_url="http://127.0.0.1:9", token="t")
    resolver = Resolver(
        cache=RemoteCache(store=store, settings=settings, clock=clock),
        policy=DomainPolicy(store, settings),
        transport=transport_for(store, settings, session),
        backend=backend,
        settings=settings,
        clock=clock,
    )
    assert (await resolver.resolve(urn)).status == "gone"
    return await store.get_cached(urn)


async def by_the_inbox(
    store: SqliteStore, settings: Settings, session: aiohttp.ClientSession, url: str
) -> CachedObject | None:
    publisher = Publisher(
        activities=store, queue=store, follows=store, clock=clock, wake=lambda: None
    )
    machine = FollowMachine(
        settings=settings, follows=store, queue=store, publisher=publisher, clock=clock
    )
    follows = FollowService(
        settings=settings,
        follows=store,
        policy=DomainPolicy(store, settings),
        machine=machine,
        clock=clock,
    )
    # A backend that is down: the notification goes to the durable queue instead.
    backend = BackendClient(session=session, base_url="http://127.0.0.1:9", token="t")
    inbound = InboundProcessor(
        settings=settings,
        follows=follows,
        follow_store=store,
        cache=RemoteCache(store=store, settings=settings, clock=clock),
        transport=transport_for(store, settings, session),
        notifications=BackendNotifications(backend=backend, queue=store, clock=clock),
    )
    actor = url.split("/blocks/")[0] + "/actor"
    delete = {"id": f"{url}#delete", "type": "Delete", "actor": actor, "object": url}
    job = new_job(InboxPayload(delete, actor, f"{actor}#main-key"))
    claimed = queued_job("inbox", payload=job.payload, attempts=1, dedupe_key="d")
    assert await inbound.handle(claimed) == Done()
    return await store.get_cached(str(BlockUrn.from_url(url)))


async def test_an_inbound_delete_and_a_410_leave_the_same_cache_entry(
    stores: tuple[SqliteStore, SqliteStore],
    settings: Settings,
    session: aiohttp.ClientSession,
    origin: str,
) -> None:
    url = f"http://{origin}/blocks/old"
    urn = str(BlockUrn.from_url(url))
    answered_410 = await by_the_resolver(stores[0], settings, session, urn)
    deleted = await by_the_inbox(stores[1], settings, session, url)
    assert answered_410 is not None
    assert deleted == answered_410
