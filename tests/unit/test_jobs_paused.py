"""The job runner and paused hosts: their jobs are neither claimed nor tried nor counted."""

from __future__ import annotations

from federation.jobs.outcomes import Done, JobOutcome
from federation.jobs.runner import JobRunner
from federation.records import Job, JobState
from federation.storage.sqlite import SqliteStore
from tests.unit.test_jobs import LEASE, T0, Clock, enqueue, states


def paused_runner(
    store: SqliteStore, clock: Clock, paused: set[str], calls: list[str]
) -> JobRunner:
    async def handler(job: Job) -> JobOutcome:
        calls.append(f"{job.host}:{job.payload['i']}")
        if job.payload["i"] == 0:
            paused.add(job.host)  # the admin pauses the host while its batch is running
        return Done()

    async def read_paused() -> set[str]:
        return set(paused)

    return JobRunner(
        store,
        {"work": handler},
        owner="r1",
        clock=clock,
        backoff=lambda attempt: 10.0 * attempt,
        max_attempts=5,
        lease_seconds=LEASE,
        concurrency=8,
        per_host_concurrency=1,
        paused_hosts=read_paused,
        paused_recheck=0.0,  # every job re-reads: the batch runs within one claim
        complete_delay=0.001,
    )


async def test_a_paused_hosts_jobs_are_not_claimed_and_keep_their_place(
    store: SqliteStore,
) -> None:
    clock, paused, calls = Clock(), {"p.example"}, []
    await enqueue(store, 2, "p.example")
    await enqueue(store, 1, "q.example")
    r = paused_runner(store, clock, paused, calls)
    assert await r.run_once() == 1  # only q.example's job was claimed
    assert calls == ["q.example:0"]
    jobs = await store.list_jobs(JobState.QUEUED, "p.example")
    assert [(j.attempts, j.lease_owner, j.next_attempt_at) for j in jobs] == [(0, None, T0)] * 2

    paused.clear()
    await r.run_once()
    assert calls[1:] == ["p.example:0"]  # whose handler paused the host again


async def test_a_job_claimed_before_its_host_was_paused_goes_back_untried(
    store: SqliteStore,
) -> None:
    clock, paused, calls = Clock(), set[str](), []
    await enqueue(store, 3, "p.example")
    r = paused_runner(store, clock, paused, calls)
    # One slot per host: jobs 1 and 2 wait for it while job 0 runs and its host is paused.
    assert await r.run_once() == 3
    assert calls == ["p.example:0"]
    left = await store.list_jobs(JobState.QUEUED, "p.example")
    assert [(j.attempts, j.lease_owner, j.next_attempt_at) for j in left] == [(0, None, T0)] * 2

    paused.clear()
    await r.run_once()
    assert calls == ["p.example:0", "p.example:1", "p.example:2"]  # in their order
    assert await states(store) == {"done": 3}


async def test_jobs_run_right_after_a_claim_reuse_its_read(store: SqliteStore) -> None:
    reads: list[float] = []

    async def read_paused() -> set[str]:
        reads.append(0.0)
        return set()

    async def handler(job: Job) -> JobOutcome:
        return Done()

    await enqueue(store, 3, "q.example")
    r = JobRunner(
        store,
        {"work": handler},
        owner="r1",
        clock=Clock(),
        backoff=lambda attempt: 10.0 * attempt,
        max_attempts=5,
        lease_seconds=LEASE,
        concurrency=8,
        per_host_concurrency=4,
        paused_hosts=read_paused,
        paused_recheck=60.0,
    )
    assert await r.run_once() == 3
    assert len(reads) == 1  # one read for the claim and its three jobs
