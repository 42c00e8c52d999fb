"""The job queue on MongoDB, its admin side (the JobAdmin port: counts, listing, requeue) and
the runner's housekeeping of the JobQueue port (releasing leases, the next due time, pruning)."""

from __future__ import annotations

from federation.records import Job, JobState
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.mongodb.queue import JOBS, job_from, row_id

QUEUED, DONE, DEAD = JobState.QUEUED.value, JobState.DONE.value, JobState.DEAD.value


class MongoQueueAdmin(MongoBase):
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

    async def release_all_leases(self, now: float) -> int:
        unleased = {"lease_owner": None, "lease_until": 0.0, "updated_at": now}
        result = await self._collection(JOBS).update_many(
            {"state": QUEUED, "lease_owner": {"$ne": None}}, {"$set": unleased}
        )
        return result.matched_count

    async def next_due_at(self) -> float | None:
        # min(max(next_attempt_at, lease_until)) without scanning every queued job: unleased
        # jobs are read in claim-index order until the first hit; leased ones (a handful in
        # flight) from the partial index on lease_until.
        jobs = self._collection(JOBS)
        unleased = await jobs.find_one(
            {"state": QUEUED, "$expr": {"$lte": ["$lease_until", "$next_attempt_at"]}},
            {"next_attempt_at": 1},
            sort=[("next_attempt_at", 1), ("_id", 1)],
        )
        leased = await jobs.find_one(
            {
                "state": QUEUED,
                "lease_until": {"$gt": 0},
                "$expr": {"$gt": ["$lease_until", "$next_attempt_at"]},
            },
            {"lease_until": 1},
            sort=[("lease_until", 1)],
        )
        times = [float(doc[field]) for doc, field in _found(unleased, leased)]
        return min(times) if times else None

    async def prune_done(self, older_than: float) -> int:
        result = await self._collection(JOBS).delete_many(
            {"state": DONE, "updated_at": {"$lt": older_than}}
        )
        return result.deleted_count


def _found(unleased: Document | None, leased: Document | None) -> list[tuple[Document, str]]:
    pairs = [(unleased, "next_attempt_at"), (leased, "lease_until")]
    return [(doc, field) for doc, field in pairs if doc is not None]
