"""Delivery policy: fan-out into one durable job per inbox, and the "deliver" job handler.

Retries follow Mastodon's curve (attempt n waits n**4 + 15 s plus jitter; 16 attempts span
about two to three days), Retry-After is honoured up to a cap, 410 Gone ends a follower, and
404 is a failure to retry, never a success (Mastodon #37235).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cachetools import LRUCache

from federation.config import DeliverySettings, Settings
from federation.delivery.tally import DeliveryTally
from federation.hosts import host_key
from federation.http.replies import TIMED_OUT
from federation.http.transport import DeliveryOutcome, DeliveryResult
from federation.job_ports import JobQueue
from federation.jobs.kinds import DeliverPayload, new_job, payload_of
from federation.jobs.outcomes import Dead, Done, FailureReason, JobOutcome, Retry
from federation.ports import ActivityLog, FollowStore
from federation.records import Job

log = logging.getLogger("federation.delivery")

UNAVAILABLE = "domain unavailable"
# Answers that ask us to slow down: the host's lane narrows, its Retry-After pauses it.
_THROTTLING = frozenset({429, 503})

# Ends, through the follow state machine, every follower an inbox that answered 410 stands
# for; returns how many. Delivery sits below follows/, so the composition root passes it in.
InboxGone = Callable[[str], Awaitable[int]]


def backoff_delay(
    attempt: int, rng: random.Random, *, base: float = 1.0, minimum: float = 15.0
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    grow = base * attempt**4
    return grow + minimum + rng.uniform(0.0, 0.5 * grow)


def make_backoff(settings: DeliverySettings, rng: random.Random) -> Callable[[int], float]:
    """The runner's backoff, from the delivery settings."""
    return lambda attempt: backoff_delay(
        attempt, rng, base=settings.backoff_base, minimum=settings.backoff_min
    )


def retry_delay(
    attempt: int, retry_after: float | None, settings: DeliverySettings, rng: random.Random
) -> float:
    """The backoff, or the peer's Retry-After (capped) when that is longer."""
    delay = backoff_delay(attempt, rng, base=settings.backoff_base, minimum=settings.backoff_min)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.retry_after_cap))
    return delay


async def enqueue_fanout(
    queue: JobQueue,
    follows: FollowStore,
    activity_id: str,
    now: float,
    *,
    inboxes: Sequence[tuple[str, str]] | None = None,
    event_at: float | None = None,
) -> int:
    """One "deliver" job per inbox (shared inboxes already collapsed by the store), in one
    batch. The dedupe key makes a re-run after a crash insert nothing twice."""
    targets = await follows.delivery_inboxes() if inboxes is None else inboxes
    jobs = [
        new_job(
            DeliverPayload(activity_id, inbox, event_at),
            host=host,
            run_at=now,
        )
        for inbox, host in targets
    ]
    return await queue.enqueue(jobs, now)


class HostVerdicts(Protocol):
    """What a delivery tells about its host, and asks (HostHealthTracker provides it)."""

    async def is_unavailable(self, host: str, /) -> bool: ...

    async def success(self, host: str, seconds: float, /) -> None:
        """Delivered, after `seconds` (a slow answer narrows the host's lane)."""

    async def failure(self, host: str, /, *, timed_out: bool) -> None: ...

    def throttled(self, host: str, until: float | None, /) -> None:
        """The host said 429/503, with a Retry-After meaning `until` (or none)."""

    def answered(self, host: str, /) -> None:
        """The host answered (it is up) though it refused this delivery."""


class Deliverer(Protocol):
    async def deliver(self, inbox_url: str, body: bytes) -> DeliveryResult: ...


class _Bodies:
    """A small LRU of activity bodies: a fan-out sends one body to many inboxes."""

    def __init__(self, activities: ActivityLog, size: int) -> None:
        self._activities = activities
        self._bodies: LRUCache[str, bytes] = LRUCache(maxsize=size)

    async def get(self, activity_id: str) -> bytes | None:
        body = self._bodies.get(activity_id)
        if body is not None:
            return body
        body = await self._activities.get_activity(activity_id)
        if body is not None:
            self._bodies[activity_id] = body
        return body


@dataclass(eq=False, repr=False, kw_only=True)
class DeliverHandler:
    """The handler for JobKind.DELIVER jobs."""

    transport: Deliverer
    inbox_gone: InboxGone
    activities: ActivityLog
    health: HostVerdicts
    clock: Callable[[], float]
    settings: Settings
    rng: random.Random = field(default_factory=random.Random)
    body_cache_size: int = 64
    tally: DeliveryTally | None = None

    def __post_init__(self) -> None:
        self._bodies = _Bodies(self.activities, self.body_cache_size)

    async def __call__(self, job: Job) -> JobOutcome:
        payload = payload_of(job, DeliverPayload)
        activity_id, inbox = payload.activity_id, payload.inbox
        host = host_key(inbox)
        if await self.health.is_unavailable(host):
            return Dead(UNAVAILABLE, FailureReason.UNAVAILABLE)
        body = await self._bodies.get(activity_id)
        if body is None:
            return Dead(f"activity not found: {activity_id}")
        started = self.clock()
        result = await self.transport.deliver(inbox, body)
        if self.tally is not None:
            self.tally.record(host, result.outcome is DeliveryOutcome.DELIVERED)
        return await self._judge(job, inbox, host, result, self.clock() - started)

    async def _judge(
        self, job: Job, inbox: str, host: str, result: DeliveryResult, seconds: float
    ) -> JobOutcome:
        error = result.error or f"HTTP {result.status}"
        if result.outcome is DeliveryOutcome.DELIVERED:
            await self.health.success(host, seconds)
            return Done()
        if result.outcome is DeliveryOutcome.PERMANENT:
            self.health.answered(host)  # the host is there; it refused this one
            refused = FailureReason.REFUSED if result.status is not None else FailureReason.OTHER
            return Dead(error, refused)
        if result.outcome is DeliveryOutcome.GONE:
            self.health.answered(host)
            removed = await self.inbox_gone(inbox)
            log.info("inbox %s is gone (410): %d follower(s) removed", inbox, removed)
            return Dead(error, FailureReason.GONE)
        # RETRY, and 404 (a failure, never a success: retried until attempts run out).
        now = self.clock()
        if result.status in _THROTTLING:
            paused = None if result.retry_after is None else now + self._capped(result.retry_after)
            self.health.throttled(host, paused)
        await self.health.failure(host, timed_out=result.error == TIMED_OUT)
        delay = retry_delay(job.attempts + 1, result.retry_after, self.settings.delivery, self.rng)
        return Retry(error, at=now + delay)

    def _capped(self, retry_after: float) -> float:
        return min(retry_after, self.settings.delivery.retry_after_cap)
