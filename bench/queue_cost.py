"""The queue side of one fan-out, in-process: enqueue_fanout of N deliveries, then claim and
complete them all in batches as the job runner does. Feasible at sizes where a full HTTP
fan-out is not (100k deliveries)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.followers import followers, put_follows
from federation.delivery.handler import enqueue_fanout
from federation.jobs.runner import BATCH_SIZE
from federation.storage.sqlite import SqliteStore

HOSTS = 50


def queue_cost(n: int) -> dict[str, float]:
    """Seconds to enqueue and to claim + complete a fan-out to `n` personal inboxes."""
    return asyncio.run(_queue_cost(n))


async def _queue_cost(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-queue-cost-") as tmp:
        store = SqliteStore(Path(tmp) / "queue.sqlite3")
        await store.open()
        try:
            now = time.time()
            ports = list(range(40_000, 40_000 + HOSTS))
            await put_follows(store, followers(ports, max(1, n // HOSTS), now))
            start = time.perf_counter()
            jobs = await enqueue_fanout(store, store, "https://bench.example/a/1", now)
            enqueued = time.perf_counter()
            done = 0
            while claimed := await store.claim("bench", now, 60.0, BATCH_SIZE, ["deliver"]):
                done += await store.complete_many([(job.id, "bench") for job in claimed], now)
            finished = time.perf_counter()
        finally:
            await store.close()
    if done != jobs:
        raise RuntimeError(f"claimed and completed {done} of {jobs} jobs")
    return {
        "queue_jobs": float(jobs),
        "enqueue_s": enqueued - start,
        "claim_complete_s": finished - enqueued,
    }
