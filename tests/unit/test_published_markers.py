"""An upgraded store keeps what the old `published:{block id}` activity-log markers said: a
block published once is generation 1 of its publication, live (SQLite migration v10, the
MongoDB store's published_markers migration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from federation.records import Publication
from federation.storage.mongodb import MongoStore
from federation.storage.sqlite import SqliteStore
from tests.support.mongo import NO_TTL
from tests.unit.test_mongodb_migrations import Db, old_db

__all__ = ["old_db"]  # the fixture

MARKED = Publication(block_id="b/1", generation=1, started_by="", published_at=7.0)


async def test_sqlite_markers_become_generation_one(tmp_path: Path) -> None:
    path = tmp_path / "v9.sqlite3"
    fresh = SqliteStore(path)
    await fresh.open()
    await fresh.close()
    with sqlite3.connect(path) as conn:  # back to the schema before migration v10
        conn.execute("DROP TABLE publications")
        conn.execute("PRAGMA user_version = 9")
        conn.execute("INSERT INTO activities VALUES ('published:b/1', x'31', 7.0)")
        conn.execute("INSERT INTO activities VALUES ('https://a.example/activities/x', x'7b7d', 8)")
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.publications(["b/1"]) == {"b/1": MARKED}
        assert await store.get_activity("published:b/1") is None
        assert await store.get_activity("https://a.example/activities/x") == b"{}"
        # Published already: the upgraded gateway does not begin another generation.
        assert await store.publish_block("b/1", "event:9", 9.0) == MARKED
    finally:
        await store.close()


async def test_mongodb_markers_become_generation_one(old_db: tuple[str, Db]) -> None:
    url, db = old_db
    await db["activities"].insert_one({"_id": "published:b/1", "body": b"1", "created_at": 7.0})
    await db["activities"].insert_one(
        {"_id": "https://a.example/a", "body": b"{}", "created_at": 8}
    )
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    try:
        assert await store.publications(["b/1"]) == {"b/1": MARKED}
        assert await store.get_activity("published:b/1") is None
        assert await store.get_activity("https://a.example/a") == b"{}"
        assert await store.publish_block("b/1", "event:9", 9.0) == MARKED
    finally:
        await store.close()
