"""The job runner over a real SqliteStore, with a frozen clock."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from federation.config import DeliverySettings
from federation.delivery.hosthealth import HostHealthTracker
from federation.jobs.outcomes import Dead, Done, Handler, HostHealth, JobOutcome, Retry
from federation.jobs.runner import JobRunner
from federation.records import Job, JobState, NewJob
from federation.storage.sqlite import SqliteStore
from tests.support.stored import find_job

T0 = 1_800_000_000.0
LEASE = 60.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RunningClock(Clock):
    """Moves with real time, for tests of the runner's own loop (which sleeps for real)."""

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def __call__(self) -> float:
        return self.now + time.monotonic() - self._started


class ClosedHosts:
    """Host health with fixed closing times and no breaker (no probe to take)."""

    def __init__(self, clock: Clock, closed_until: dict[str, float] | None = None) -> None:
        self.clock = clock
        self.closed_until = closed_until or {}

    async def gate(self, host: str) -> float | None:
        return await self.peek(host)

    async def peek(self, host: str) -> float | None:
        until = self.closed_until.get(host)
        return until if until is not None and until > self.clock() else None

    def limit(self, host: str) -> int:
        return 1_000  # no lane narrowing: the runner's per-host limit applies


def breaker(store: SqliteStore, clock: Clock, open_seconds: float = 60.0) -> HostHealthTracker:
    """The real tracker; its breaker opens on the first failure."""
    settings = DeliverySettings(breaker_threshold=1, breaker_open_seconds=open_seconds)
    return HostHealthTracker(hosts=store, settings=settings, clock=clock, probe_seconds=60.0)


def runner(
    store: SqliteStore,
    handler: Handler,
    clock: Clock,
    *,
    owner: str = "r1",
    max_attempts: int = 5,
    concurrency: int = 8,
    per_host: int = 4,
    batch_size: int = 64,
    idle_poll: float = 0.05,
    host_health: HostHealth | None = None,
    complete_batch: int = 32,
    complete_delay: float = 0.005,
) -> JobRunner:
    return JobRunner(
        store,
        {"work": handler},
        owner=owner,
        clock=clock,
        backoff=lambda attempt: 10.0 * attempt,
        max_attempts=max_attempts,
        lease_seconds=LEASE,
        concurrency=concurrency,
        per_host_concurrency=per_host,
        idle_poll=idle_poll,
        host_health=host_health,
        batch_size=batch_size,
        complete_batch=complete_batch,
        complete_delay=complete_delay,
    )


async def enqueue(store: SqliteStore, n: int, host: str = "a.example", start: int = 0) -> None:
    jobs = [
        NewJob(kind="work", dedupe_key=f"{host}:{i}", payload={"i": i}, host=host)
        for i in range(start, start + n)
    ]
    await store.enqueue(jobs, T0)


async def states(store: SqliteStore) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (state, _host), n in (await store.counts()).items():
        counts[state] += n
    return counts


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.01)


async def only_job(store: SqliteStore) -> Job:
    job = await find_job(store, 1)
    assert job is not None
    return job


async def test_each_job_runs_once_and_is_completed(store: SqliteStore) -> None:
    seen: Counter[int] = Counter()

    async def handler(job: Job) -> JobOutcome:
        seen[job.payload["i"]] += 1
        return Done()

    await enqueue(store, 10)
    r = runner(store, handler, Clock())
    assert await r.run_once() == 10
    assert await r.run_once() == 0
    assert seen == Counter(range(10))
    assert await states(store) == {"done": 10}


async def test_retry_is_rescheduled_with_the_attempt_counted(store: SqliteStore) -> None:
    calls: list[int] = []

    async def handler(job: Job) -> JobOutcome:
        calls.append(job.attempts)
        return Retry("boom")

    clock = Clock()
    await enqueue(store, 1)
    r = runner(store, handler, clock)
    await r.run_once()
    job = await only_job(store)
    assert (job.state, job.attempts, job.last_error) == (JobState.QUEUED, 1, "boom")
    assert job.next_attempt_at == T0 + 10.0  # backoff(1)
    assert await r.run_once() == 0  # not due yet
    clock.now += 10.0
    await r.run_once()
    job = await only_job(store)
    assert job.attempts == 2 and job.next_attempt_at == clock.now + 20.0
    assert calls == [0, 1]


async def test_retry_at_a_given_time(store: SqliteStore) -> None:
    async def handler(job: Job) -> JobOutcome:
        return Retry("later", at=T0 + 1234.0)

    await enqueue(store, 1)
    await runner(store, handler, Clock()).run_once()
    assert (await only_job(store)).next_attempt_at == T0 + 1234.0


async def test_dead_after_max_attempts(store: SqliteStore) -> None:
    calls = 0

    async def handler(job: Job) -> JobOutcome:
        nonlocal calls
        calls += 1
        return Retry("still failing")

    clock = Clock()
    await enqueue(store, 1)
    r = runner(store, handler, clock, max_attempts=3)
    for _ in range(5):
        await r.run_once()
        clock.now += 1000.0
    job = await only_job(store)
    assert calls == 3
    assert (job.state, job.attempts) == (JobState.DEAD, 3)
    assert job.last_error is not None and "still failing" in job.last_error


async def test_dead_outcome_is_final(store: SqliteStore) -> None:
    async def handler(job: Job) -> JobOutcome:
        return Dead("refused")

    await enqueue(store, 1)
    await runner(store, handler, Clock()).run_once()
    job = await only_job(store)
    assert (job.state, job.last_error, job.attempts) == (JobState.DEAD, "refused", 1)


async def test_handler_exception_becomes_a_retry(store: SqliteStore) -> None:
    async def handler(job: Job) -> JobOutcome:
        raise ValueError("bad payload")

    await enqueue(store, 1)
    await runner(store, handler, Clock()).run_once()
    job = await only_job(store)
    assert (job.state, job.attempts) == (JobState.QUEUED, 1)
    assert job.last_error == "ValueError: bad payload"


async def test_per_host_concurrency_is_respected(store: SqliteStore) -> None:
    running: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    release = asyncio.Event()

    async def handler(job: Job) -> JobOutcome:
        running[job.host] += 1
        peak[job.host] = max(peak[job.host], running[job.host])
        await release.wait()
        running[job.host] -= 1
        return Done()

    await enqueue(store, 6, "a.example")
    await enqueue(store, 6, "b.example")
    r = runner(store, handler, Clock(), concurrency=10, per_host=2)
    task = asyncio.create_task(r.run_once())

    async def both_saturated() -> bool:
        return running["a.example"] == 2 and running["b.example"] == 2

    await until(both_saturated)
    release.set()
    assert await task == 12
    assert peak == {"a.example": 2, "b.example": 2}
    assert await states(store) == {"done": 12}


async def test_a_blocked_host_does_not_delay_other_hosts(store: SqliteStore) -> None:
    release = asyncio.Event()

    async def handler(job: Job) -> JobOutcome:
        if job.host == "slow.example":
            await release.wait()
        return Done()

    # The slow host's jobs come first in the queue, and claims are small, so without per-host
    # exclusion the slow backlog would take every slot.
    await enqueue(store, 12, "slow.example")
    await enqueue(store, 8, "fast.example")
    r = runner(store, handler, Clock(), concurrency=4, per_host=2, batch_size=4)
    await r.start()
    try:

        async def fast_done() -> bool:
            return (await store.counts()).get(("done", "fast.example"), 0) == 8

        await until(fast_done, timeout=3.0)
        assert (await store.counts()).get(("done", "slow.example"), 0) == 0
        release.set()

        async def all_done() -> bool:
            return await states(store) == {"done": 20}

        await until(all_done)
    finally:
        release.set()
        await r.stop()


async def test_two_runners_never_run_the_same_job(tmp_path: Path) -> None:
    stores = [SqliteStore(tmp_path / "shared.sqlite3") for _ in range(2)]
    for s in stores:
        await s.open()
    ran: list[tuple[str, int]] = []

    def handler_for(owner: str) -> Handler:
        async def handler(job: Job) -> JobOutcome:
            for _ in range(3):
                await asyncio.sleep(0)
            ran.append((owner, job.payload["i"]))
            return Done()

        return handler

    await enqueue(stores[0], 40, "a.example")
    await enqueue(stores[0], 40, "b.example", start=40)
    clock = Clock()
    runners = [
        runner(s, handler_for(name), clock, owner=name, batch_size=8)
        for s, name in zip(stores, ("r1", "r2"), strict=True)
    ]
    try:
        for r in runners:
            await r.start()

        async def all_done() -> bool:
            return await states(stores[0]) == {"done": 80}

        await until(all_done)
    finally:
        for r in runners:
            await r.stop()
        for s in stores:
            await s.close()
    assert sorted(i for _, i in ran) == list(range(80))
    assert {owner for owner, _ in ran} == {"r1", "r2"}  # both took part


async def test_a_crashed_runners_job_is_finished_by_another_after_the_lease(
    store: SqliteStore,
) -> None:
    started = asyncio.Event()
    ran_by: list[str] = []

    def handler_for(owner: str, block: bool) -> Handler:
        async def handler(job: Job) -> JobOutcome:
            ran_by.append(owner)
            started.set()
            if block:
                await asyncio.Event().wait()
            return Done()

        return handler

    clock = Clock()
    await enqueue(store, 1)
    crashing = runner(store, handler_for("r1", block=True), clock, owner="r1")
    task = asyncio.create_task(crashing.run_once())
    await started.wait()
    task.cancel()  # the process dies mid-job: nothing is settled
    with pytest.raises(asyncio.CancelledError):
        await task
    job = await only_job(store)
    assert (job.state, job.lease_owner, job.attempts) == (JobState.QUEUED, "r1", 0)

    other = runner(store, handler_for("r2", block=False), clock, owner="r2")
    assert await other.run_once() == 0  # still leased by r1
    clock.now += LEASE + 1
    assert await other.run_once() == 1
    job = await only_job(store)
    assert job.state is JobState.DONE
    assert ran_by == ["r1", "r2"]


async def test_stop_abandons_running_work_for_others(store: SqliteStore) -> None:
    started = asyncio.Event()

    async def handler(job: Job) -> JobOutcome:
        started.set()
        await asyncio.Event().wait()
        return Done()

    await enqueue(store, 1)
    r = runner(store, handler, Clock())
    await r.start()
    await started.wait()
    await r.stop(grace=0.01)
    assert r.in_flight == 0
    job = await only_job(store)
    assert (job.state, job.attempts, job.lease_owner) == (JobState.QUEUED, 0, "r1")


async def test_wake_starts_new_work_without_waiting_for_the_poll(store: SqliteStore) -> None:
    done = asyncio.Event()

    async def handler(job: Job) -> JobOutcome:
        done.set()
        return Done()

    r = runner(store, handler, Clock(), idle_poll=30.0)
    await r.start()
    try:
        await asyncio.sleep(0.05)  # the loop is asleep now
        await enqueue(store, 1)
        r.wake()
        async with asyncio.timeout(1.0):
            await done.wait()
    finally:
        await r.stop()


async def test_closed_host_is_skipped_without_counting_an_attempt(store: SqliteStore) -> None:
    calls: list[str] = []

    async def handler(job: Job) -> JobOutcome:
        calls.append(job.host)
        return Done()

    clock = Clock()
    await enqueue(store, 1, "down.example")
    hosts = ClosedHosts(clock, {"down.example": T0 + 300.0})
    r = runner(store, handler, clock, host_health=hosts)
    await r.run_once()
    assert calls == []
    job = await only_job(store)
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)
    # Handed back to the queue, due when the host reopens: not left leased.
    assert (job.lease_owner, job.next_attempt_at) == (None, T0 + 300.0)

    await enqueue(store, 1, "down.example", start=1)
    await enqueue(store, 1, "up.example")
    assert await r.run_once() == 1  # the closed host is excluded from the claim
    assert calls == ["up.example"]

    clock.now += 301  # open again: the deferred job is due
    assert await r.run_once() == 2
    assert sorted(calls) == ["down.example", "down.example", "up.example"]
    assert await states(store) == {"done": 3}


async def test_a_host_that_closes_during_a_batch_is_excluded_from_later_claims(
    store: SqliteStore,
) -> None:
    clock = Clock()
    hosts = ClosedHosts(clock)

    async def handler(job: Job) -> JobOutcome:
        hosts.closed_until["a.example"] = T0 + 100.0  # e.g. the breaker opened on this failure
        return Retry("failed")

    await enqueue(store, 1, "a.example")
    r = runner(store, handler, clock, host_health=hosts)
    await r.run_once()
    await enqueue(store, 1, "a.example", start=1)
    assert await r.run_once() == 0


async def test_stop_lets_running_jobs_finish_but_starts_no_waiting_ones(
    store: SqliteStore,
) -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def handler(job: Job) -> JobOutcome:
        started.append(job.payload["i"])
        await release.wait()
        return Done()

    await enqueue(store, 2)
    r = runner(store, handler, Clock(), per_host=1)
    await r.start()
    await until(lambda: asyncio.sleep(0, bool(started)))
    stopping = asyncio.create_task(r.stop(grace=5.0))
    await asyncio.sleep(0.02)
    release.set()  # the running job finishes within the grace period
    await stopping
    assert started == [0]
    first, second = await find_job(store, 1), await find_job(store, 2)
    assert first is not None and first.state is JobState.DONE
    assert second is not None and (second.state, second.attempts) == (JobState.QUEUED, 0)
    assert second.lease_owner is None  # handed back for another runner, not left leased


async def test_local_work_is_not_held_to_the_per_host_limit(store: SqliteStore) -> None:
    running = 0
    peak = 0

    async def handler(job: Job) -> JobOutcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return Done()

    await enqueue(store, 6, host="")
    assert await runner(store, handler, Clock(), concurrency=8, per_host=2).run_once() == 6
    assert peak == 6


async def test_a_job_left_too_little_lease_is_handed_back_at_once(store: SqliteStore) -> None:
    ran: list[int] = []
    clock = Clock()

    async def handler(job: Job) -> JobOutcome:
        ran.append(job.payload["i"])
        clock.now += LEASE / 2 + 1  # the next job waits this long for the host's slot
        return Done()

    await enqueue(store, 2)
    assert await runner(store, handler, clock, per_host=1).run_once() == 2
    assert ran == [0]
    second = await find_job(store, 2)
    assert second is not None
    assert (second.state, second.attempts, second.lease_owner) == (JobState.QUEUED, 0, None)
    assert second.next_attempt_at == clock.now
    other = runner(store, handler, clock, owner="r2")
    assert await other.run_once() == 1  # claimable now, long before the lease would expire
    assert ran == [0, 1]


class Peer:
    """A handler delivering to one host and reporting to the real breaker, as the deliver
    handler does; `answer` decides what the host does."""

    def __init__(self, health: HostHealthTracker, clock: Clock) -> None:
        self.health = health
        self.clock = clock
        self.answer = "fail"  # "fail", "ok" or "403"
        self.held = asyncio.Event()  # cleared: the delivery hangs until it is set
        self.held.set()
        self.sent: list[int] = []

    async def __call__(self, job: Job) -> JobOutcome:
        self.sent.append(job.payload["i"])
        await self.held.wait()
        if self.answer == "ok":
            await self.health.success(job.host)
            return Done()
        if self.answer == "403":
            self.health.answered(job.host)
            return Dead("HTTP 403")
        await self.health.failure(job.host)
        return Retry("connection failed", at=self.clock() + 1000.0)  # out of the way


async def open_breaker(store: SqliteStore, per_host: int) -> tuple[Clock, Peer, JobRunner]:
    """A runner delivering through the real breaker to a failing host, given three jobs: the
    first opens the breaker (T0 + 60), the others are deferred to then."""
    clock = Clock()
    health = breaker(store, clock)
    peer = Peer(health, clock)
    r = runner(store, peer, clock, per_host=per_host, host_health=health)
    await enqueue(store, 3, "down.example")
    assert await r.run_once() == 3
    assert peer.sent == [0]
    for job_id in (2, 3):
        job = await find_job(store, job_id)
        assert job is not None
        assert (job.attempts, job.lease_owner, job.next_attempt_at) == (0, None, T0 + 60.0)
    return clock, peer, r


async def test_jobs_waiting_on_a_probe_come_back_within_a_second(store: SqliteStore) -> None:
    clock, peer, r = await open_breaker(store, per_host=4)

    clock.now = T0 + 61.0  # half-open
    await enqueue(store, 2, "down.example", start=3)  # due with jobs 2 and 3: four in all
    peer.answer = "ok"
    peer.held.clear()  # the probe hangs for now
    batch = asyncio.create_task(r.run_once())

    async def others_deferred() -> bool:
        jobs = await store.list_jobs(JobState.QUEUED, "down.example")
        return sum(j.lease_owner is None and j.next_attempt_at == T0 + 62.0 for j in jobs) == 3

    await until(others_deferred)
    assert len(peer.sent) == 2  # job 1's failure, then the probe; the others did not go
    peer.held.set()
    assert await batch == 4
    assert await states(store) == {"done": 1, "queued": 4}
    await enqueue(store, 1, "down.example", start=5)
    assert await r.run_once() == 1  # the probe's success reopened the host for claims at once

    clock.now = T0 + 62.0  # not probe_until (T0 + 121): the probe closed the breaker
    assert await r.run_once() == 3
    assert await states(store) == {"done": 5, "queued": 1}  # job 1 retries at T0 + 1000


async def test_a_successful_probe_lets_the_rest_of_its_batch_go(store: SqliteStore) -> None:
    clock, peer, r = await open_breaker(store, per_host=1)

    clock.now = T0 + 61.0
    peer.answer = "ok"
    await enqueue(store, 2, "down.example", start=3)
    # One at a time: the probe goes first, and its success reopens the host for the others.
    assert await r.run_once() == 4
    assert await states(store) == {"done": 4, "queued": 1}  # job 1 retries at T0 + 1000


async def test_a_failed_probe_closes_the_host_again_at_once(store: SqliteStore) -> None:
    clock, peer, r = await open_breaker(store, per_host=1)

    clock.now = T0 + 61.0
    assert await r.run_once() == 2
    assert len(peer.sent) == 2  # one probe, which failed; the other job was not sent
    reopened_until = T0 + 121.0
    assert await peer.health.peek("down.example") == reopened_until
    other, probe = sorted(
        [j for i in (2, 3) if (j := await find_job(store, i)) is not None], key=lambda j: j.attempts
    )
    assert (other.attempts, other.next_attempt_at) == (0, reopened_until)
    assert probe.attempts == 1


async def test_learning_a_hosts_state_after_a_job_never_takes_the_probe(
    store: SqliteStore,
) -> None:
    clock, peer, r = await open_breaker(store, per_host=1)

    clock.now = T0 + 61.0
    peer.answer = "403"  # the probe's answer ends it but keeps the breaker half-open
    assert await r.run_once() == 2
    # The next job became the next probe and was sent; had the runner's look at the host after
    # the first job taken the probe slot, it would have been held back for probe_seconds.
    assert len(peer.sent) == 3
    assert await states(store) == {"dead": 2, "queued": 1}


async def test_the_loop_claims_a_closed_hosts_backlog_as_soon_as_it_reopens(
    store: SqliteStore,
) -> None:
    clock = RunningClock()
    health = breaker(store, clock, open_seconds=0.3)
    sent: list[int] = []

    async def handler(job: Job) -> JobOutcome:
        sent.append(job.payload["i"])
        if len(sent) > 1:
            await health.success(job.host)
            return Done()
        await health.failure(job.host)  # the breaker opens for 0.3 s
        # Due at once but behind the closed host; nothing wakes the runner for it.
        await enqueue(store, 1, "down.example", start=1)
        return Dead("gone")

    await enqueue(store, 1, "down.example")
    r = runner(store, handler, clock, idle_poll=30.0, host_health=health)
    await r.start()
    try:

        async def backlog_done() -> bool:
            return (await states(store))["done"] == 1

        await until(backlog_done, timeout=3.0)  # not the 30 s idle poll
    finally:
        await r.stop()
    assert sent == [0, 1]


async def test_done_jobs_are_completed_in_groups_and_the_rest_on_stop(store: SqliteStore) -> None:
    ran: list[int] = []

    async def handler(job: Job) -> JobOutcome:
        ran.append(job.payload["i"])
        return Done()

    await enqueue(store, 10)
    # No delay-driven write within the test: only a full group, or stop(), writes.
    r = runner(store, handler, Clock(), complete_batch=4, complete_delay=3600.0)
    await r.start()
    try:

        async def two_groups_written() -> bool:
            return len(ran) == 10 and await states(store) == {"done": 8, "queued": 2}

        await until(two_groups_written)
        left = [j for j in await store.list_jobs(JobState.QUEUED) if j.lease_owner == "r1"]
        assert len(left) == 2  # ran, still leased: a crash now would run them again
    finally:
        await r.stop()
    assert await states(store) == {"done": 10}
    assert sorted(ran) == list(range(10))  # each ran once: nothing was claimed twice


async def test_a_done_job_whose_lease_was_taken_over_is_not_completed(
    store: SqliteStore,
) -> None:
    clock = Clock()

    async def slow(job: Job) -> JobOutcome:
        clock.now += LEASE + 1
        assert await store.claim("r2", clock(), LEASE, 10) != []  # another runner takes over
        return Done()

    await enqueue(store, 1)
    assert await runner(store, slow, clock).run_once() == 1
    job = await only_job(store)
    assert (job.state, job.attempts, job.lease_owner) == (JobState.QUEUED, 0, "r2")


async def test_retries_and_dead_jobs_are_settled_without_waiting_for_a_group(
    store: SqliteStore,
) -> None:
    async def handler(job: Job) -> JobOutcome:
        return Retry("later") if job.payload["i"] == 0 else Dead("refused")

    await enqueue(store, 2)
    r = runner(store, handler, Clock(), complete_delay=3600.0)
    await r.start()
    try:

        async def settled() -> bool:
            return await states(store) == {"queued": 1, "dead": 1}

        await until(settled)
        retried = await only_job(store)
        assert (retried.attempts, retried.lease_owner) == (1, None)
    finally:
        await r.stop()
