"""The durable job runner: lease jobs from the JobQueue port, run their handlers, settle them.

Every state change goes through the queue, so a crash loses nothing: a job leased by a dead
runner becomes claimable again when its lease expires, which a live runner's heartbeat
(jobs/leases.py) keeps from happening to the jobs it works on. Work it decides not to start (a
closed host, a lease about to run out, a stop) is handed back at once with queue.defer(), which
counts no attempt: a closed host's jobs come back when it reopens, the others at once.

Which hosts may be claimed and run now (admin pauses, closed breakers) is jobs/hostgate.py's.
What an outcome does to its job (done in groups, retried, dead) is jobs/settle.py's concern.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence

from federation.job_ports import JobQueue, Liveness
from federation.jobs.hostgate import PAUSED_RECHECK, HostGate, PausedHosts
from federation.jobs.kinds import MalformedPayload
from federation.jobs.lanes import Lanes
from federation.jobs.leases import LeaseKeeper
from federation.jobs.liveness import Heartbeat
from federation.jobs.outcomes import Dead, Handler, HostHealth, JobOutcome, Retry
from federation.jobs.settle import COMPLETE_BATCH, COMPLETE_DELAY, Settler
from federation.records import Job

log = logging.getLogger("federation.jobs")

BATCH_SIZE = 64


class JobRunner:
    """Runs up to `concurrency` jobs at once, at most `per_host_concurrency` per host (less
    while host_health.limit() says so: a slow or throttling host's lane is narrowed).

    Claimed jobs wait for their host's slot before taking a global one, so a slow host's
    backlog never occupies the slots other hosts need; hosts at their limit are excluded
    from further claims.
    """

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        owner: str,
        clock: Callable[[], float],
        backoff: Callable[[int], float],
        max_attempts: int,
        lease_seconds: float,
        concurrency: int,
        per_host_concurrency: int,
        kinds: Sequence[str] | None = None,
        idle_poll: float = 1.0,
        host_health: HostHealth | None = None,
        paused_hosts: PausedHosts | None = None,
        paused_recheck: float = PAUSED_RECHECK,
        wakeup: asyncio.Event | None = None,
        batch_size: int = BATCH_SIZE,
        complete_batch: int = COMPLETE_BATCH,
        complete_delay: float = COMPLETE_DELAY,
        liveness: Liveness | None = None,
        takeover_seconds: float = 3.0,
    ) -> None:
        self._queue = queue
        self._handlers = dict(handlers)
        self._owner = owner
        self._clock = clock
        self._lease = lease_seconds
        self._kinds = list(kinds) if kinds is not None else list(self._handlers)
        self._idle_poll = idle_poll
        self._gate = HostGate(
            host_health, paused_hosts, per_host=per_host_concurrency, paused_recheck=paused_recheck
        )
        self._batch = batch_size
        self._wakeup = wakeup or asyncio.Event()  # may be shared with producers of work
        self._capacity(concurrency)
        self._leases = LeaseKeeper(queue, owner=owner, clock=clock, lease_seconds=lease_seconds)
        # With a heartbeat, a stopped runner's jobs move to the others within seconds.
        self._heartbeat: Heartbeat | None = None
        if liveness is not None:
            self._heartbeat = Heartbeat(
                liveness,
                owner=owner,
                clock=clock,
                takeover_seconds=takeover_seconds,
                on_takeover=self.wake,
                on_judged_dead=self._leases.forfeit,
            )
        self._settler = Settler(
            queue,
            owner=owner,
            clock=clock,
            backoff=backoff,
            max_attempts=max_attempts,
            complete_batch=complete_batch,
            complete_delay=complete_delay,
        )

    def _capacity(self, concurrency: int) -> None:
        """What bounds the jobs in hand, and what is in hand now."""
        self._max_held = concurrency + self._batch  # running + waiting for a host slot
        self._slots = asyncio.Semaphore(concurrency)
        self._lanes = Lanes(self._gate.limit)
        self._held: dict[str, int] = {}  # host -> jobs held (running or waiting)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        if self._loop_task is None:
            if self._heartbeat is not None:
                await self._heartbeat.start()
            self._leases.start()
            self._loop_task = asyncio.create_task(self._loop(), name=f"jobs:{self._owner}")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give running jobs `grace` seconds, then abandon them (their leases
        expire and another runner takes them over)."""
        self._stopping = True  # a cancel can be swallowed by a wait ending at the same time
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.wait([self._loop_task])  # unlike `await task`, keeps our own cancel
            self._loop_task = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._leases.stop()  # after the grace: the jobs given it stay ours until then
        if self._heartbeat is not None:
            await self._heartbeat.stop()  # silent from now: others take what we abandoned
        await self._settler.flush()
        self._stopping = False  # stopped: may be started again (or driven by run_once)

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # -- claiming ----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and run it to the end; returns how many jobs were claimed."""
        tasks = await self._claim_and_spawn()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._settler.flush()
        return len(tasks)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wakeup.clear()  # before claiming: a wake() during the claim is not lost
            try:
                spawned = await self._claim_and_spawn()
            except Exception:
                log.exception("claiming jobs failed")
                spawned = []
            if not spawned or self._held_total() >= self._max_held:
                await self._sleep()

    async def _sleep(self) -> None:
        timeout = self._idle_poll
        if self._held_total() < self._max_held:
            try:
                due = await self._queue.next_due_at()
            except Exception:
                log.exception("reading the next due time failed")
                due = None
            if due is not None:
                timeout = min(timeout, max(due - self._clock(), 0.0))
        if timeout <= 0:
            # Due work we could not claim (excluded hosts): wait for a slot or the poll.
            timeout = self._idle_poll
        reopens = self._gate.next_reopen(self._clock())
        if reopens is not None:
            # A closed host's backlog may be due already: claim it as soon as the host reopens.
            timeout = min(timeout, reopens - self._clock())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wakeup.wait()

    async def _claim_and_spawn(self) -> list[asyncio.Task[None]]:
        limit = min(self._batch, self._max_held - self._held_total())
        if limit <= 0 or not self._kinds:
            return []
        await self._gate.read_paused()
        now = self._clock()
        busy = [host for host, n in self._held.items() if host and n >= self._lanes.limit(host)]
        excluded = self._gate.excluded(now, busy)
        jobs = await self._queue.claim(self._owner, now, self._lease, limit, self._kinds, excluded)
        tasks = []
        for job in jobs:
            self._leases.hold(job)
            self._held[job.host] = self._held.get(job.host, 0) + 1
            task = asyncio.create_task(self._run(job), name=f"job:{job.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            tasks.append(task)
        return tasks

    def _held_total(self) -> int:
        return sum(self._held.values())

    # -- running -----------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        try:
            async with self._lanes.slot(job.host), self._slots:
                defer_to = await self._defer_to(job)
                if defer_to is None:
                    outcome = await self._call(job)
                    await self._settler.settle(job, outcome)
                    await self._note_host(job.host)
                else:
                    await self._defer(job, defer_to)
        except Exception:
            log.exception("settling job %s failed; its lease will expire", job.id)
        finally:
            self._leases.drop(job)
            self._release(job.host)

    async def _defer_to(self, job: Job) -> float | None:
        """None when the job may run now, else when it should be handed back to the queue."""
        now = self._clock()
        if self._stopping:
            return now  # waited for a slot while we were asked to stop: let others take it
        if now > self._leases.lease_until(job) - self._lease / 2:
            return now  # waited too long for a slot: not enough lease left to run it safely
        return await self._gate.held_back_until(job.host, job.next_attempt_at)

    async def _defer(self, job: Job, at: float) -> None:
        # Without this the job would sit leased (unclaimable) until its lease expired, long
        # after its host may have reopened.
        if not await self._queue.defer(job.id, self._owner, at, self._clock()):
            log.warning("job %s: lease lost before deferring it", job.id)

    async def _note_host(self, host: str) -> None:
        if await self._gate.reopened_after_job(host):
            self._wakeup.set()  # e.g. the probe succeeded: the host's jobs may go now

    async def _call(self, job: Job) -> JobOutcome:
        handler = self._handlers.get(job.kind)
        if handler is None:
            return Dead(f"no handler for job kind {job.kind!r}")
        try:
            return await handler(job)
        except MalformedPayload as exc:  # no attempt can fix a damaged payload: dead-letter it
            log.error("job %s: %s", job.id, exc)
            return Dead(str(exc))
        except Exception as exc:
            log.exception("job %s (%s) raised", job.id, job.kind)
            return Retry(f"{type(exc).__name__}: {exc}")

    def _release(self, host: str) -> None:
        left = self._held.get(host, 1) - 1
        if left > 0:
            self._held[host] = left
        else:
            self._held.pop(host, None)
            self._lanes.forget(host)
        self._wakeup.set()  # a slot is free: claim more
