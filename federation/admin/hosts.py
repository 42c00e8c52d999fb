"""Per-host federation health (Mastodon's per-instance view) and the admin's delivery charts.

Read-only: it joins what other owners write (follows, jobs, host health, delivery counters)
into one report per remote host; it never changes any of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from federation.errors import HostError
from federation.hosts import Host
from federation.ports import Store
from federation.records import (
    DeliveryCount,
    Direction,
    Follow,
    FollowState,
    HostHealth,
    Job,
    JobState,
    Severity,
)

DAY = 86400.0
HOURS = 24  # sparkline buckets, one an hour over the last day
_JOB_SCAN = 1000  # queued/dead jobs read per host for its last error and next attempt


@dataclass(frozen=True)
class HostReport:
    host: str
    followers: int
    following: int
    delivered_24h: int
    failed_24h: int
    delivered_7d: int
    failed_7d: int
    hourly: list[tuple[int, int]]  # (delivered, failed) per hour, oldest first, last 24 h
    last_success_at: float | None
    last_failure_at: float | None
    last_error: str | None
    consecutive_failures: int
    breaker: str  # "closed" | "open" | "half-open"
    unavailable: bool
    unavailable_since: str | None  # the UTC day the host was marked unavailable
    signature_scheme: str | None
    queued: int
    dead: int
    next_attempt_at: float | None
    oldest_due_age: float | None = None  # seconds its oldest owed delivery has waited
    paused: bool = False  # an admin paused delivery to it
    blocked: bool = False  # a domain block covers it


@dataclass(frozen=True)
class MinutePoint:
    minute: int
    delivered: int
    failed: int


class HostHealthView:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def report(self, only: str | None = None) -> list[HostReport]:
        """One report per remote host we know of (or just `only`), ordered by host."""
        now = self._clock()
        counts = await self._store.delivery_counts(now - 7 * DAY, host=only)
        jobs = await self._store.counts()
        follows = {d: await self._store.list_follows(d, FollowState.ACCEPTED) for d in Direction}
        health = {h.host: h for h in await self._store.list_hosts()}
        hosts = {c.host for c in counts} | {h for _, h in jobs if h} | set(health)
        hosts |= {f.domain for fs in follows.values() for f in fs}
        paused = {p.host for p in await self._store.paused_hosts()}
        hosts |= paused
        oldest = await self._store.oldest_deliveries()
        if only is not None:
            hosts = {only} & hosts
        blocks = {
            b.domain for b in await self._store.list_blocks() if b.severity is Severity.SUSPEND
        }
        reports = []
        for host in sorted(hosts):
            related = [f for d in Direction for f in follows[d] if f.domain == host]
            report = await self._one(host, now, counts, jobs, related, health.get(host))
            owed_since = oldest.get(host)
            reports.append(
                replace(
                    report,
                    paused=host in paused,
                    blocked=_covered_by(blocks, host),
                    oldest_due_age=None if owed_since is None else max(0.0, now - owed_since),
                )
            )
        return reports

    async def _one(
        self,
        host: str,
        now: float,
        counts: list[DeliveryCount],
        jobs: dict[tuple[str, str], int],
        follows: list[Follow],
        health: HostHealth | None,
    ) -> HostReport:
        mine = [c for c in counts if c.host == host]
        day = [c for c in mine if c.minute >= now - DAY]
        last_error, next_attempt = await self._job_facts(host)
        h = health or HostHealth(host=host)
        return HostReport(
            host=host,
            followers=sum(1 for f in follows if f.direction is Direction.FOLLOWER),
            following=sum(1 for f in follows if f.direction is Direction.FOLLOWING),
            delivered_24h=sum(c.delivered for c in day),
            failed_24h=sum(c.failed for c in day),
            delivered_7d=sum(c.delivered for c in mine),
            failed_7d=sum(c.failed for c in mine),
            hourly=hourly(day, now),
            last_success_at=h.last_success_at or None,
            last_failure_at=h.last_failure_at or None,
            last_error=last_error,
            consecutive_failures=h.consecutive_failures,
            breaker=breaker_state(h, now),
            unavailable=h.unavailable,
            unavailable_since=h.failure_days[-1] if h.unavailable and h.failure_days else None,
            signature_scheme=h.signature_scheme,
            queued=jobs.get((JobState.QUEUED.value, host), 0),
            dead=jobs.get((JobState.DEAD.value, host), 0),
            next_attempt_at=next_attempt,
        )

    async def _job_facts(self, host: str) -> tuple[str | None, float | None]:
        """The newest error among the host's waiting and dead jobs; its next attempt."""
        queued = await self._store.list_jobs(JobState.QUEUED, host, _JOB_SCAN)
        dead = await self._store.list_jobs(JobState.DEAD, host, 1)
        failed = [j for j in (*queued, *dead) if j.last_error]
        newest: Job | None = max(failed, key=lambda j: j.updated_at, default=None)
        next_attempt = min((j.next_attempt_at for j in queued), default=None)
        return (newest.last_error if newest else None), next_attempt

    async def minutes(self, span: int = 60) -> list[MinutePoint]:
        """Deliveries and failures per minute over the last `span` minutes, every host summed;
        minutes without attempts are zeros, so a chart's x axis is time."""
        now = self._clock()
        first = int(now // 60 * 60) - (span - 1) * 60
        delivered: Counter[int] = Counter()
        failed: Counter[int] = Counter()
        for c in await self._store.delivery_counts(first):
            delivered[c.minute] += c.delivered
            failed[c.minute] += c.failed
        return [
            MinutePoint(m, delivered[m], failed[m]) for m in range(first, first + span * 60, 60)
        ]


def _covered_by(blocks: set[str], host: str) -> bool:
    try:
        return any(str(entry) in blocks for entry in Host.parse(host).entries_covering())
    except HostError:
        return False  # a key that names no host: no block can cover it


def hourly(counts: Iterable[DeliveryCount], now: float) -> list[tuple[int, int]]:
    buckets = [[0, 0] for _ in range(HOURS)]
    for c in counts:
        age = int((now - c.minute) // 3600)
        if 0 <= age < HOURS:
            bucket = buckets[HOURS - 1 - age]
            bucket[0] += c.delivered
            bucket[1] += c.failed
    return [(d, f) for d, f in buckets]


def breaker_state(h: HostHealth, now: float) -> str:
    if h.circuit_open_until > now:
        return "open"
    return "half-open" if h.circuit_open_until else "closed"
