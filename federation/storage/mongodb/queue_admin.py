"""The job queue's admin side (job_ports.JobAdmin) on MongoDB: counts, listings, and moving
jobs by an admin's decision. The workers' side (job_ports.JobQueue) is queue.py."""

from __future__ import annotations

from federation.records import Job, JobState
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.mongodb.queue import DEAD, JOBS, QUEUED, job_from
from federation.storage.rows import row_id


class MongoJobAdmin(MongoBase):
    async def counts(self) -> dict[tuple[str, str], int]:
        pipeline: list[Document] = [
            {"$group": {"_id": {"state": "$state", "host": "$host"}, "n": {"$sum": 1}}}
        ]
        cursor = await self._collection(JOBS).aggregate(pipeline)
        return {(doc["_id"]["state"], doc["_id"]["host"]): doc["n"] async for doc in cursor}

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        pipeline: list[Document] = [
            {"$match": {"state": {"$in": [QUEUED, DEAD]}}},
            {"$group": {"_id": {"kind": "$kind", "state": "$state"}, "n": {"$sum": 1}}},
        ]
        cursor = await self._collection(JOBS).aggregate(pipeline)
        return {(doc["_id"]["kind"], doc["_id"]["state"]): doc["n"] async for doc in cursor}

    async def list_jobs(
        self, state: JobState, host: str | None = None, limit: int = 100
    ) -> list[Job]:
        """Most recently updated first."""
        query: Document = {"state": state.value}
        if host is not None:
            query["host"] = host
        cursor = self._collection(JOBS).find(query).sort([("updated_at", -1), ("_id", -1)])
        return [job_from(doc) async for doc in cursor.limit(max(limit, 0))]

    async def requeue_dead(
        self, now: float, job_id: int | str | None = None, host: str | None = None
    ) -> int:
        query: Document = {"state": DEAD}
        if job_id is not None:
            key = row_id(job_id)
            if key is None:
                return 0
            query["_id"] = key
        if host is not None:
            query["host"] = host
        reset = {
            "state": QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_owner": None,
            "lease_until": 0.0,
            "updated_at": now,
        }
        result = await self._collection(JOBS).update_many(query, {"$set": reset})
        return result.matched_count

    async def retry_queued_now(self, now: float, host: str, job_id: int | str | None = None) -> int:
        query: Document = {"state": QUEUED, "host": host, "lease_until": {"$lte": now}}
        if job_id is not None:
            key = row_id(job_id)
            if key is None:
                return 0
            query["_id"] = key
        due = {"next_attempt_at": now, "updated_at": now}
        result = await self._collection(JOBS).update_many(query, {"$set": due})
        return result.matched_count

    async def drop_queued_for_host(self, host: str, now: float) -> int:
        dropped = {
            "state": DEAD,
            "last_error": "dropped",
            "lease_owner": None,
            "lease_until": 0.0,
            "updated_at": now,
        }
        result = await self._collection(JOBS).update_many(
            {"host": host, "state": QUEUED}, {"$set": dropped}
        )
        return result.matched_count
