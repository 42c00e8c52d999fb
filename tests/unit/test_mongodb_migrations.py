"""The MongoDB store's host re-spelling migration: what the SQLite store's migration v2 does,
run when the store opens, recorded so that it runs once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from federation.records import Direction, NewJob
from federation.storage.mongodb import MongoStore
from federation.storage.mongodb.migrations import (
    HOSTS_RESPELLED,
    MIGRATIONS,
    STEPS,
    respell_hosts,
)
from federation.storage.mongodb.queue import _new_document
from tests.support.mongo import NO_TTL, MongoServer

Db = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def old_db(mongo_server: MongoServer) -> AsyncIterator[tuple[str, Db]]:
    """A fresh database and a raw client on it, to write documents as an old version did."""
    url = mongo_server.database_url()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    db = client.get_default_database()
    yield url, db
    await client.drop_database(db.name)
    await client.close()


def _health(host: str, failures: int) -> dict[str, Any]:
    return {
        "_id": host,
        "consecutive_failures": failures,
        "failure_days": [],
        "last_failure_at": 0.0,
        "last_success_at": 0.0,
        "circuit_open_until": 0.0,
        "unavailable": False,
        "signature_scheme": None,
    }


async def _write_old_spellings(db: Db) -> None:
    """Documents holding hosts as a version before federation.hosts stored them."""
    inbox = "https://Bücher.example:443/inbox"
    deliver = NewJob(
        kind="deliver",
        dedupe_key="d1",
        payload={"activity_id": "a", "inbox": inbox},
        host="bücher.example:443",
    )
    await db["jobs"].insert_one(_new_document(1, deliver, 1.0))
    await db["jobs"].insert_one(
        _new_document(
            2, NewJob(kind="inbox", dedupe_key="i1", payload={}, host="Peer.Example."), 1.0
        )
    )
    await db["follows"].insert_one(
        {
            "_id": "follower|https://user@Peer.Example.:443/actor",
            "direction": "follower",
            "actor": "https://user@Peer.Example.:443/actor",
            "domain": "user@peer.example.:443",
            "inbox": "https://peer.example/inbox",
            "shared_inbox": None,
            "state": "accepted",
            "follow_id": "f",
            "created_at": 1.0,
            "updated_at": 1.0,
        }
    )
    await db["domain_blocks"].insert_one(
        {"_id": "[0:0:0:0:0:0:0:1]", "reason": "spam", "created_at": 1.0}
    )
    for host, failures in (("a.example.", 3), ("a.example", 5), ("b.example.", 7)):
        await db["host_health"].insert_one(_health(host, failures))
    await db["settings"].insert_one({"_id": "allowlist", "value": '["Ä.example.", "b.example"]'})


async def test_opening_respells_every_stored_host(old_db: tuple[str, Db]) -> None:
    url, db = old_db
    await _write_old_spellings(db)
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    try:
        assert await store.counts() == {
            ("queued", "xn--bcher-kva.example"): 1,
            ("queued", "peer.example"): 1,
        }
        follows = await store.list_follows(Direction.FOLLOWER)
        assert [f.domain for f in follows] == ["peer.example"]
        assert [b.domain for b in await store.list_blocks()] == ["[::1]"]
        assert await store.is_blocked("[::1]")
        hosts = {h.host: h.consecutive_failures for h in await store.list_hosts()}
        assert hosts == {"a.example": 5, "b.example": 7}  # the normal-form record wins
        assert await store.get_setting("allowlist") == '["b.example", "xn--4ca.example"]'
        assert await store.policy_version() == 1  # running gateways re-read the policy
    finally:
        await store.close()


async def test_the_migration_is_recorded_and_runs_once(old_db: tuple[str, Db]) -> None:
    url, db = old_db
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    await store.close()
    assert await db[MIGRATIONS].find_one({"_id": HOSTS_RESPELLED}) is not None
    # Written after the migration ran: a later open must not touch it again.
    await db["host_health"].insert_one(_health("c.example.", 1))
    await store.open()
    try:
        assert [h.host for h in await store.list_hosts()] == ["c.example."]
        assert await db[MIGRATIONS].count_documents({}) == len(STEPS)
    finally:
        await store.close()


async def test_running_it_again_changes_nothing(old_db: tuple[str, Db]) -> None:
    _, db = old_db
    await _write_old_spellings(db)
    await respell_hosts(db)
    snapshot = {name: await db[name].find().sort("_id", 1).to_list() for name in _COLLECTIONS}
    await respell_hosts(db)
    again = {name: await db[name].find().sort("_id", 1).to_list() for name in _COLLECTIONS}
    assert again == snapshot


_COLLECTIONS = ("jobs", "follows", "domain_blocks", "host_health", "settings", "policy_version")
