"""The indexes of the MongoDB store, created (idempotently) when the store opens.

MongoDB has no schema to migrate; the indexes carry what SQLite's schema does: unique keys,
the claim order, and two TTL indexes that do housekeeping SQLite leaves to prune_done():
old DONE jobs (their dedupe keys are kept for the retention, then expire) and negative cache
entries. A TTL index only reads BSON Dates, hence the done_at / purge_at copies of times.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from federation.records import DONE_JOB_RETENTION
from federation.storage.mongodb.base import Document
from federation.storage.mongodb.follows import FOLLOWS
from federation.storage.mongodb.liveness import RUNNERS
from federation.storage.mongodb.objects import CACHE
from federation.storage.mongodb.queue import JOBS
from federation.storage.mongodb.stats import DELIVERY_COUNTS
from federation.storage.mongodb.subscriptions import HOLDERS, SUBSCRIPTIONS

# Same index name, other options (a changed TTL): MongoDB says 85, mongoeco 86.
INDEX_CONFLICTS = (85, 86)
DONE_TTL_INDEX = "jobs_done_ttl"
NEGATIVE_TTL_INDEX = "cache_negative_ttl"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long TTL indexes keep records; None creates no TTL index (tests on a frozen
    clock, whose records would look years old to the server's real clock)."""

    done_jobs: float | None = DONE_JOB_RETENTION  # dedupe keys of finished work (>= 24 h)
    negative_cache: float | None = 86400.0  # after a FAILED entry's expires_at


INDEXES: dict[str, list[IndexModel]] = {
    JOBS: [
        IndexModel([("dedupe_key", ASCENDING)], name="jobs_dedupe", unique=True),
        # claim walks this in (next_attempt_at, _id) order for one state: equality, then sort.
        IndexModel(
            [("state", ASCENDING), ("next_attempt_at", ASCENDING), ("_id", ASCENDING)],
            name="jobs_claim",
        ),
        IndexModel([("host", ASCENDING), ("state", ASCENDING)], name="jobs_host"),
        IndexModel(
            [("state", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)],
            name="jobs_recent",
        ),
        # Only leased jobs (a handful in flight) land here: next_due_at reads their expiries.
        IndexModel(
            [("lease_until", ASCENDING)],
            name="jobs_leased",
            partialFilterExpression={"state": "queued", "lease_until": {"$gt": 0}},
        ),
    ],
    # release_stale finds the owners whose beat is older than the takeover window.
    RUNNERS: [IndexModel([("beat_at", ASCENDING)], name="runners_beat")],
    FOLLOWS: [
        IndexModel(
            [("direction", ASCENDING), ("state", ASCENDING), ("actor", ASCENDING)],
            name="follows_state",
        ),
        IndexModel([("domain", ASCENDING)], name="follows_domain"),
    ],
    DELIVERY_COUNTS: [
        IndexModel([("host", ASCENDING), ("minute", ASCENDING)], name="counts_host", unique=True),
        IndexModel([("minute", ASCENDING)], name="counts_minute"),
    ],
    SUBSCRIPTIONS: [IndexModel([("url", ASCENDING)], name="subscriptions_url", unique=True)],
    HOLDERS: [
        IndexModel([("domain", ASCENDING)], name="holders_domain"),
        IndexModel([("subscription_id", ASCENDING)], name="holders_subscription"),
    ],
    CACHE: [
        IndexModel([("url", ASCENDING), ("fetched_at", DESCENDING)], name="cache_url"),
        IndexModel([("domain", ASCENDING)], name="cache_domain"),
    ],
}


async def ensure_indexes(db: AsyncDatabase[Document], retention: Retention) -> None:
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)
    if retention.done_jobs is not None:
        await _ensure_ttl(db, JOBS, DONE_TTL_INDEX, "done_at", retention.done_jobs)
    if retention.negative_cache is not None:
        await _ensure_ttl(db, CACHE, NEGATIVE_TTL_INDEX, "purge_at", retention.negative_cache)


async def _ensure_ttl(
    db: AsyncDatabase[Document], collection: str, name: str, field: str, seconds: float
) -> None:
    """Create the TTL index, or change its expiry in place when the retention changed."""
    expire = int(seconds)
    try:
        await db[collection].create_index(
            [(field, ASCENDING)], name=name, expireAfterSeconds=expire
        )
    except OperationFailure as exc:
        if exc.code not in INDEX_CONFLICTS:
            raise
        await db.command("collMod", collection, index={"name": name, "expireAfterSeconds": expire})
