"""Runner heartbeats (job_ports.Liveness) on MongoDB: one document per owner in `runners`.

Without a transaction across collections, release_stale relies on single-document atomicity
alone: each job is released by an update whose filter says the owner has not written it since
`stale_before`, and an owner is forgotten by a delete whose filter says its beat is still
stale. An owner that beats again in between keeps every job it claimed or renewed since, and
its next beat tells it it was judged dead (jobs/liveness.py), so it stops on the rest.
"""

from __future__ import annotations

from pymongo import ReturnDocument

from federation.records import JobState
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.mongodb.queue import JOBS

RUNNERS = "runners"


def _leased_by(owner: str) -> Document:
    # Matches the partial index jobs_leased (only jobs in flight), never the whole collection.
    return {"state": JobState.QUEUED.value, "lease_until": {"$gt": 0}, "lease_owner": owner}


class MongoLiveness(MongoBase):
    async def beat(self, owner: str, now: float) -> float | None:
        before = await self._collection(RUNNERS).find_one_and_update(
            {"_id": owner},
            {"$set": {"beat_at": now}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return None if before is None else float(before["beat_at"])

    async def release_stale(self, stale_before: float, now: float) -> int:
        runners = self._collection(RUNNERS)
        stale = [doc["_id"] async for doc in runners.find({"beat_at": {"$lt": stale_before}})]
        released = 0
        for owner in stale:
            result = await self._collection(JOBS).update_many(
                {**_leased_by(owner), "updated_at": {"$lt": stale_before}},
                {"$set": {"lease_owner": None, "lease_until": 0.0, "updated_at": now}},
            )
            released += result.modified_count
            if await self._collection(JOBS).find_one(_leased_by(owner), {"_id": 1}) is None:
                await runners.delete_one({"_id": owner, "beat_at": {"$lt": stale_before}})
        return released
