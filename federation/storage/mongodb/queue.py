"""The durable job queue as the workers use it (job_ports.JobQueue) on MongoDB: enqueue, claim,
finishing a job, and the runner's housekeeping; the admin side is queue_admin.py.

A job is QUEUED until done or dead; a worker leases it by setting lease_owner and
lease_until. Each job is claimed by its own find_one_and_update, which MongoDB applies to one
document atomically: two workers (in any number of processes) racing for a job cannot both
match it, and a lease that expires (its worker died) makes the job claimable again. Only the
current lease holder may complete, retry, fail or defer it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError

from federation.records import Job, JobState, NewJob
from federation.storage.mongodb.base import Document, MongoBase, bson_date
from federation.storage.rows import record_from, row_id

JOBS = "jobs"
COUNTERS = "counters"
DUPLICATE_KEY = 11000
CLAIM_ORDER = [("next_attempt_at", 1), ("_id", 1)]  # oldest due first, then enqueue order
QUEUED, DONE, DEAD = JobState.QUEUED.value, JobState.DONE.value, JobState.DEAD.value


def job_from(doc: Document) -> Job:
    return record_from(
        Job, doc, id=doc["_id"], payload=json.loads(doc["payload"]), state=JobState(doc["state"])
    )


def _new_document(job_id: int, job: NewJob, now: float) -> Document:
    return {
        "_id": job_id,
        "kind": job.kind,
        "dedupe_key": job.dedupe_key,
        # JSON text, as in SQLite: any JSON payload round-trips, whatever its keys.
        "payload": json.dumps(job.payload, separators=(",", ":")),
        "host": job.host,
        "state": QUEUED,
        "attempts": 0,
        "next_attempt_at": job.run_at or now,
        "lease_owner": None,
        "lease_until": 0.0,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }


def _unlease(now: float, **fields: Any) -> Document:
    """The update that drops the lease without counting an attempt."""
    return {"$set": {"lease_owner": None, "lease_until": 0.0, "updated_at": now, **fields}}


def _release(now: float, **fields: Any) -> Document:
    """The update that ends an attempt: lease dropped, attempt counted."""
    return {**_unlease(now, **fields), "$inc": {"attempts": 1}}


class MongoJobQueue(MongoBase):
    async def enqueue(self, jobs: Sequence[NewJob], now: float) -> int:
        return sum(await self.enqueue_each(jobs, now))

    async def enqueue_each(self, jobs: Sequence[NewJob], now: float) -> list[bool]:
        if not jobs:
            return []
        first = await self._allocate_ids(len(jobs))
        docs = [_new_document(first + n, job, now) for n, job in enumerate(jobs)]
        try:
            await self._collection(JOBS).insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            # The unique dedupe_key index skips known keys (like SQLite's INSERT OR IGNORE);
            # any other write error is real.
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            skipped = {int(error["index"]) for error in errors}
            return [n not in skipped for n in range(len(jobs))]
        return [True] * len(jobs)

    async def _allocate_ids(self, count: int) -> int:
        """Reserve `count` consecutive integer ids; returns the first. Ids are never reused,
        so a pruned job's id never names another job."""
        counter = await self._collection(COUNTERS).find_one_and_update(
            {"_id": JOBS},
            {"$inc": {"seq": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if counter is None:  # cannot happen: an upsert returning AFTER always has a document
            raise RuntimeError("job id counter missing")
        return int(counter["seq"]) - count + 1

    async def claim(
        self,
        owner: str,
        now: float,
        lease_seconds: float,
        limit: int,
        kinds: Sequence[str] | None = None,
        exclude_hosts: Sequence[str] = (),
    ) -> list[Job]:
        if limit <= 0 or (kinds is not None and not kinds):
            return []
        query: Document = {
            "state": QUEUED,
            "next_attempt_at": {"$lte": now},
            "lease_until": {"$lte": now},
        }
        if kinds is not None:
            query["kind"] = {"$in": list(kinds)}
        if exclude_hosts:
            query["host"] = {"$nin": list(exclude_hosts)}
        lease = {
            "$set": {"lease_owner": owner, "lease_until": now + lease_seconds, "updated_at": now}
        }
        claimed: list[Job] = []
        for _ in range(limit):
            doc = await self._collection(JOBS).find_one_and_update(
                query, lease, sort=CLAIM_ORDER, return_document=ReturnDocument.AFTER
            )
            if doc is None:
                break
            claimed.append(job_from(doc))
        return claimed

    async def renew_leases(
        self, job_ids: Sequence[int | str], owner: str, lease_until: float, now: float
    ) -> int:
        keys = [key for key in map(row_id, job_ids) if key is not None]
        if not keys:
            return 0
        # Each document's match and update are atomic: a job another owner claimed in the
        # meantime no longer matches and keeps its new lease.
        held = {"_id": {"$in": keys}, "lease_owner": owner, "state": QUEUED}
        renew = {"$set": {"lease_until": lease_until, "updated_at": now}}
        return (await self._collection(JOBS).update_many(held, renew)).modified_count

    async def complete_many(self, items: Sequence[tuple[int | str, str]], now: float) -> int:
        # done_at (a BSON Date) feeds the TTL index that expires old done jobs.
        update = _release(now, state=DONE, done_at=bson_date(now))
        held = [(row_id(job_id), owner) for job_id, owner in items]
        ops = [
            UpdateOne({"_id": key, "lease_owner": owner, "state": QUEUED}, update)
            for key, owner in held
            if key is not None
        ]
        if not ops:
            return 0
        # Unordered: one job's lost lease must not stop the others from completing.
        result = await self._collection(JOBS).bulk_write(ops, ordered=False)
        return result.matched_count

    async def retry(
        self, job_id: int | str, owner: str, next_attempt_at: float, error: str, now: float
    ) -> bool:
        update = _release(now, next_attempt_at=next_attempt_at, last_error=error)
        return await self._finish(job_id, owner, update)

    async def fail(self, job_id: int | str, owner: str, error: str, now: float) -> bool:
        update = _release(now, state=DEAD, last_error=error)
        return await self._finish(job_id, owner, update)

    async def defer(
        self, job_id: int | str, owner: str, next_attempt_at: float, now: float
    ) -> bool:
        return await self._finish(job_id, owner, _unlease(now, next_attempt_at=next_attempt_at))

    async def _finish(self, job_id: int | str, owner: str, update: Document) -> bool:
        """Only the lease holder may finish a job, and only while it is still QUEUED."""
        key = row_id(job_id)
        if key is None:
            return False
        held = {"_id": key, "lease_owner": owner, "state": QUEUED}
        return (await self._collection(JOBS).update_one(held, update)).matched_count == 1

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
