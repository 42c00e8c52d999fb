"""Heartbeats: a silent runner's jobs move within the takeover window, not its lease; a
runner that learns it was judged dead starts none of the jobs it held.

Real runners on one real SQLite file, as worker processes share it; a killed process is what it
leaves in the store: a beat that stops and jobs leased to it for a long time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest

from federation.jobs.outcomes import Done, Handler, JobOutcome
from federation.jobs.runner import JobRunner
from federation.records import Job, JobState, NewJob
from federation.storage.sqlite import SqliteStore
from tests.support.stored import find_job

LEASE = 600.0  # far longer than any test waits: only the heartbeat can move the jobs
TAKEOVER = 0.3


def runner(
    store: SqliteStore, owner: str, handler: Handler, clock: Callable[[], float] = time.time
) -> JobRunner:
    return JobRunner(
        store,
        {"work": handler},
        owner=owner,
        clock=clock,
        backoff=lambda attempt: 60.0,
        max_attempts=5,
        lease_seconds=LEASE,
        concurrency=1,
        per_host_concurrency=1,
        idle_poll=0.02,
        liveness=store,
        takeover_seconds=TAKEOVER,
    )


def jobs(*keys: str) -> list[NewJob]:
    return [NewJob(kind="work", dedupe_key=key, payload={}, host="h.example") for key in keys]


async def test_a_killed_runners_jobs_run_elsewhere_within_the_window(store: SqliteStore) -> None:
    await store.enqueue(jobs("a", "b"), time.time())
    await store.beat("killed", time.time())  # what SIGKILL leaves: a last beat, two leases
    assert len(await store.claim("killed", time.time(), LEASE, 10)) == 2
    ran: list[str] = []
    both = asyncio.Event()

    async def work(job: Job) -> JobOutcome:
        ran.append(job.dedupe_key)
        if len(ran) == 2:
            both.set()
        return Done()

    survivor = runner(store, "survivor", work)
    started = time.monotonic()
    await survivor.start()
    try:
        async with asyncio.timeout(10):
            await both.wait()
    finally:
        await survivor.stop()
    moved = time.monotonic() - started
    assert sorted(ran) == ["a", "b"]
    assert moved < 4 * TAKEOVER, moved  # a window and a beat or two, not the 600 s lease


async def test_a_runner_judged_dead_starts_none_of_the_jobs_it_held(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.enqueue(jobs("running", "waiting"), time.time())
    skew = [0.0]  # the runner's clock: jumping it ahead is a heartbeat that stalled that long
    ran: list[str] = []
    first_started, release = asyncio.Event(), asyncio.Event()

    async def work(job: Job) -> JobOutcome:
        ran.append(job.dedupe_key)
        first_started.set()
        await release.wait()
        return Done()

    stalled = runner(store, "stalled", work, clock=lambda: time.time() + skew[0])
    caplog.set_level(logging.WARNING, logger="federation.jobs")
    await stalled.start()
    try:
        await first_started.wait()  # "running" runs; "waiting" waits for the host's one slot
        skew[0] = 10.0
        now = time.time() + skew[0]
        # Another process judges it dead and takes both jobs over.
        assert await store.release_stale(now - TAKEOVER, now) == 2
        taken = await store.claim("other", now, LEASE, 10)
        assert sorted(j.dedupe_key for j in taken) == ["running", "waiting"]
        async with asyncio.timeout(10):  # its next beat tells it
            while "heartbeat late" not in caplog.text:
                await asyncio.sleep(0.01)
        release.set()
        async with asyncio.timeout(10):
            while stalled.in_flight:
                await asyncio.sleep(0.01)
    finally:
        await stalled.stop()
    assert ran == ["running"]  # "waiting" was handed back, never started
    for job in taken:  # and its late outcome left the new holder's lease alone
        stored = await find_job(store, job.id)
        assert stored is not None
        assert (stored.state, stored.lease_owner) == (JobState.QUEUED, "other")
