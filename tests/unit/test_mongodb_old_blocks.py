"""Domain blocks a MongoDB store kept before severities and subscriptions: read as an admin's
suspensions, and blocking as they always did."""

from __future__ import annotations

from federation.records import DomainBlock, Severity
from federation.storage.mongodb import MongoStore
from tests.support.mongo import NO_TTL
from tests.unit.test_mongodb_migrations import Db, old_db

__all__ = ["old_db"]  # the fixture


async def test_an_old_block_is_an_admins_suspension(old_db: tuple[str, Db]) -> None:
    url, db = old_db
    await db["domain_blocks"].insert_one(
        {"_id": "spam.example", "reason": "spam", "created_at": 1.0}
    )
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    try:
        assert await store.list_blocks() == [
            DomainBlock(
                domain="spam.example",
                reason="spam",
                created_at=1.0,
                severity=Severity.SUSPEND,
                by_admin=True,
            )
        ]
        assert await store.is_blocked("spam.example")
    finally:
        await store.close()
