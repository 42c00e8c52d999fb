"""Per-host, per-minute delivery counters (ports.DeliveryStats) on MongoDB: one document per
(host, minute), incremented atomically by every process that delivers."""

from __future__ import annotations

from collections.abc import Sequence

from federation.records import DeliveryCount, JobState
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.mongodb.queue import JOBS

DELIVERY_COUNTS = "delivery_counts"


class MongoDeliveryStats(MongoBase):
    async def add_delivery_counts(self, counts: Sequence[DeliveryCount]) -> None:
        collection = self._collection(DELIVERY_COUNTS)
        for c in counts:
            await collection.update_one(
                {"host": c.host, "minute": c.minute},
                {"$inc": {"delivered": c.delivered, "failed": c.failed}},
                upsert=True,
            )

    async def delivery_counts(self, since: float, host: str | None = None) -> list[DeliveryCount]:
        query: Document = {"minute": {"$gte": since}}
        if host is not None:
            query["host"] = host
        cursor = self._collection(DELIVERY_COUNTS).find(query).sort([("minute", 1), ("host", 1)])
        return [
            DeliveryCount(
                host=doc["host"],
                minute=int(doc["minute"]),
                delivered=doc["delivered"],
                failed=doc["failed"],
            )
            async for doc in cursor
        ]

    async def prune_delivery_counts(self, older_than: float) -> int:
        result = await self._collection(DELIVERY_COUNTS).delete_many(
            {"minute": {"$lt": older_than}}
        )
        return result.deleted_count

    async def oldest_deliveries(self) -> dict[str, float]:
        pipeline: list[Document] = [
            {"$match": {"state": JobState.QUEUED.value, "kind": "deliver", "host": {"$ne": ""}}},
            {"$group": {"_id": "$host", "oldest": {"$min": "$created_at"}}},
        ]
        cursor = await self._collection(JOBS).aggregate(pipeline)
        return {doc["_id"]: float(doc["oldest"]) async for doc in cursor}
