"""Blocklist subscriptions and the entries they hold (ports.SubscriptionStore) on MongoDB.

One document per subscription, one per (subscription, domain) it holds. Applying a list is a
sequence of single-document writes, not one transaction (the store needs no replica set): the
holders first, then each entry they touch, then the policy version once; a crash in between
is repaired by the next fetch of that list, which rewrites the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from federation.records import (
    SEVERITY_RANK,
    SUBSCRIPTION_HISTORY,
    BlocklistSubscription,
    DomainBlock,
    Severity,
    SubscriptionFetch,
)
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.mongodb.hosts_policy import BLOCKS, POLICY_VERSION, POLICY_VERSION_ID
from federation.storage.rows import record_from

SUBSCRIPTIONS = "blocklist_subscriptions"
HOLDERS = "block_holders"


def _subscription(doc: Document) -> BlocklistSubscription:
    history = tuple(SubscriptionFetch(**entry) for entry in doc["history"])
    return record_from(BlocklistSubscription, doc, id=doc["_id"], history=history)


class MongoSubscriptions(MongoBase):
    async def add_subscription(self, subscription: BlocklistSubscription) -> bool:
        s = subscription
        doc: Document = {
            "_id": s.id,
            "url": s.url,
            "title": s.title,
            "format": s.format,
            "max_shrink": s.max_shrink,
            "created_at": s.created_at,
            "etag": s.etag,
            "last_modified": s.last_modified,
            "next_fetch_at": s.next_fetch_at,
            "listed": s.listed,
            "history": [],
        }
        try:
            await self._collection(SUBSCRIPTIONS).insert_one(doc)
        except DuplicateKeyError:
            return False  # the unique index on url (or, never in practice, the id)
        return True

    async def list_subscriptions(self) -> list[BlocklistSubscription]:
        cursor = self._collection(SUBSCRIPTIONS).find().sort([("created_at", 1), ("_id", 1)])
        return [_subscription(doc) async for doc in cursor]

    async def get_subscription(self, subscription_id: str) -> BlocklistSubscription | None:
        doc = await self._collection(SUBSCRIPTIONS).find_one({"_id": subscription_id})
        return None if doc is None else _subscription(doc)

    async def claim_subscription(self, subscription_id: str, now: float, until: float) -> bool:
        claimed = await self._collection(SUBSCRIPTIONS).find_one_and_update(
            {"_id": subscription_id, "next_fetch_at": {"$lte": now}},
            {"$set": {"next_fetch_at": until}},
            return_document=ReturnDocument.AFTER,
        )
        return claimed is not None

    async def record_fetch(
        self,
        subscription_id: str,
        fetch: SubscriptionFetch,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        listed: int | None = None,
    ) -> None:
        update: Document = {
            "$push": {"history": {"$each": [asdict(fetch)], "$slice": -SUBSCRIPTION_HISTORY}}
        }
        if listed is not None:
            update["$set"] = {"etag": etag, "last_modified": last_modified, "listed": listed}
        await self._collection(SUBSCRIPTIONS).update_one({"_id": subscription_id}, update)

    async def apply_subscription(
        self, subscription_id: str, entries: Sequence[DomainBlock]
    ) -> tuple[list[str], list[str]]:
        holders = self._collection(HOLDERS)
        before = {d["domain"] async for d in holders.find({"subscription_id": subscription_id})}
        await holders.delete_many({"subscription_id": subscription_id})
        if entries:
            await holders.insert_many([_holder(subscription_id, e) for e in entries])
        added = [e.domain for e in entries if await self._settle(e)]
        gone = sorted(before - {e.domain for e in entries})
        removed = [d for d in gone if await self._retract(d)]
        await self._collection(POLICY_VERSION).update_one(
            {"_id": POLICY_VERSION_ID}, {"$inc": {"version": 1}}, upsert=True
        )
        return added, removed

    async def remove_subscription(self, subscription_id: str) -> list[str] | None:
        result = await self._collection(SUBSCRIPTIONS).delete_one({"_id": subscription_id})
        if result.deleted_count != 1:
            return None
        return (await self.apply_subscription(subscription_id, []))[1]

    async def _settle(self, entry: DomainBlock) -> bool:
        found = await self._collection(BLOCKS).find_one({"_id": entry.domain})
        if found is not None:
            if not found.get("by_admin", True):  # subscribed: its holders' strictest
                await self._resettle(entry.domain)
            return False
        severity, reason = await self._strictest(entry.domain)
        doc = {
            "reason": reason,
            "created_at": entry.created_at,
            "severity": severity.value,
            "by_admin": False,
        }
        try:
            await self._collection(BLOCKS).insert_one({"_id": entry.domain, **doc})
        except DuplicateKeyError:
            return False  # an admin blocked it meanwhile: theirs stands
        return True

    async def _strictest(self, domain: str) -> tuple[Severity, str]:
        held = [
            (Severity(d["severity"]), str(d["reason"]))
            async for d in self._collection(HOLDERS).find({"domain": domain})
        ]
        return max(held, key=lambda h: SEVERITY_RANK[h[0]])

    async def _resettle(self, domain: str) -> None:
        severity, reason = await self._strictest(domain)
        await self._collection(BLOCKS).update_one(
            {"_id": domain, "by_admin": False},
            {"$set": {"severity": severity.value, "reason": reason}},
        )

    async def _retract(self, domain: str) -> bool:
        if await self._collection(HOLDERS).find_one({"domain": domain}) is not None:
            await self._resettle(domain)  # another subscription still holds it
            return False
        result = await self._collection(BLOCKS).delete_one({"_id": domain, "by_admin": False})
        return result.deleted_count == 1


def _holder(subscription_id: str, entry: DomainBlock) -> Document:
    return {
        "_id": f"{subscription_id} {entry.domain}",
        "domain": entry.domain,
        "subscription_id": subscription_id,
        "severity": entry.severity.value,
        "reason": entry.reason,
    }
