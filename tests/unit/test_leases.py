"""Lease renewal: a runner keeps the jobs it works on, and loses them when it dies.

Two real runners share one real SQLite file, as two worker processes would; the lease is a
fraction of a second so that a job outlives it many times over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from federation.jobs.outcomes import Done, Handler, JobOutcome
from federation.jobs.runner import JobRunner
from federation.records import Job, JobState, NewJob
from federation.storage.sqlite import SqliteStore
from tests.support.stored import find_job

LEASE = 0.3  # seconds; renewed every 0.1 s while a job runs


def runner(store: SqliteStore, owner: str, handler: Handler) -> JobRunner:
    return JobRunner(
        store,
        {"work": handler},
        owner=owner,
        clock=time.time,
        backoff=lambda attempt: 60.0,
        max_attempts=5,
        lease_seconds=LEASE,
        concurrency=4,
        per_host_concurrency=4,
        idle_poll=0.02,
    )


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.01)


async def done(store: SqliteStore) -> bool:
    job = await find_job(store, 1)
    return job is not None and job.state is JobState.DONE


async def test_a_job_that_outlives_its_lease_many_times_runs_once(store: SqliteStore) -> None:
    runs: list[str] = []
    started = asyncio.Event()

    def handler(owner: str) -> Handler:
        async def work(job: Job) -> JobOutcome:
            runs.append(owner)
            started.set()
            # Ten leases long, every one of them a chance for the other runner to take it.
            await asyncio.sleep(10 * LEASE)
            return Done()

        return work

    await store.enqueue([NewJob(kind="work", dedupe_key="long", payload={})], time.time())
    first, second = runner(store, "w1", handler("w1")), runner(store, "w2", handler("w2"))
    await first.start()
    await started.wait()
    await second.start()  # polls every 20 ms for a lease that has run out
    try:
        await until(lambda: done(store))
    finally:
        await second.stop()
        await first.stop()
    assert runs == ["w1"]


async def test_a_runner_that_dies_mid_job_has_it_run_again_after_its_lease(
    store: SqliteStore,
) -> None:
    runs: list[tuple[str, float]] = []
    started = asyncio.Event()

    async def hangs(job: Job) -> JobOutcome:
        runs.append(("w1", time.time()))
        started.set()
        await asyncio.Event().wait()  # never finishes: its runner dies first
        return Done()

    async def works(job: Job) -> JobOutcome:
        runs.append(("w2", time.time()))
        return Done()

    await store.enqueue([NewJob(kind="work", dedupe_key="job", payload={})], time.time())
    dying = runner(store, "w1", hangs)
    await dying.start()
    await started.wait()
    claimed = await find_job(store, 1)
    assert claimed is not None

    async def renewed() -> bool:
        job = await find_job(store, 1)
        return job is not None and job.lease_until > claimed.lease_until + LEASE

    await until(renewed)  # the job stays with w1, past its first lease and the next ...
    await dying.stop(grace=0)  # ... until w1 stops renewing without settling it, as on a crash
    last_lease = await find_job(store, 1)
    assert last_lease is not None and last_lease.state is JobState.QUEUED
    survivor = runner(store, "w2", works)
    await survivor.start()
    try:
        await until(lambda: done(store))
    finally:
        await survivor.stop()
    assert [owner for owner, _ in runs] == ["w1", "w2"]
    assert runs[1][1] >= last_lease.lease_until  # taken over only once the lease had run out
