"""Paused delivery per host (ports.HostPauses) on MongoDB: one document per host, _id the host."""

from __future__ import annotations

from federation.records import HostPause
from federation.storage.mongodb.base import MongoBase

PAUSES = "host_pauses"


class MongoHostPauses(MongoBase):
    async def pause_host(self, pause: HostPause) -> bool:
        # $setOnInsert: a second pause of a paused host keeps the first one's reason and time.
        result = await self._collection(PAUSES).update_one(
            {"_id": pause.host},
            {"$setOnInsert": {"reason": pause.reason, "paused_at": pause.paused_at}},
            upsert=True,
        )
        return result.upserted_id is not None

    async def resume_host(self, host: str) -> bool:
        result = await self._collection(PAUSES).delete_one({"_id": host})
        return result.deleted_count == 1

    async def paused_hosts(self) -> list[HostPause]:
        cursor = self._collection(PAUSES).find().sort("_id", 1)
        return [
            HostPause(host=doc["_id"], reason=doc["reason"], paused_at=doc["paused_at"])
            async for doc in cursor
        ]
