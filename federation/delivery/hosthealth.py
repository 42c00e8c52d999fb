"""Per-host delivery health: a circuit breaker, the "unavailable" verdict, and pacing.

The breaker opens after `breaker_threshold` consecutive failed deliveries (at once when a
delivery timed out: a host that does not answer would hold its lane for a whole timeout per
job), stays open for `breaker_open_seconds`, then lets one probe through (half-open): a
success closes it, a failure opens it again. A host becomes unavailable after failed
deliveries on `unavailable_after_days` distinct UTC days with no success in between. Only a
successful delivery resets that: there is deliberately no way for inbound traffic to do so
(Mastodon #31118), and 404/410 answers are never successes (Mastodon #37235). While a host
is paused by its Retry-After (pacing.py) it is closed too, and its lane width is pacing's.

State lives in the HostStore; the process's one cache of host records (http/hostrecords.py,
shared with the transport's learned signature scheme) keeps the hot path off the store, is
written through on every change and re-read after `cache_seconds` so other processes' changes
(and an admin's reset) show up. Probes in flight are this process's own, kept here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cachetools import LRUCache

from federation.config import DeliverySettings
from federation.delivery.pacing import HostPacing
from federation.http.hostrecords import MAX_HOSTS, HostRecords
from federation.ports import HostStore
from federation.records import HostFailure, HostHealth

# Persist last_success_at at most this often when nothing else changed.
_SUCCESS_WRITE_INTERVAL = 60.0


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


@dataclass(eq=False, repr=False, kw_only=True)
class HostHealthTracker:
    hosts: HostStore
    settings: DeliverySettings
    clock: Callable[[], float]
    # The process's one per-host record cache, shared with the transport; its own otherwise.
    records: HostRecords | None = None
    probe_seconds: float = 60.0  # how long one probe may take before another
    recheck_seconds: float = 1.0  # while a probe is out, ask again this soon

    def __post_init__(self) -> None:
        self._records = self.records or HostRecords(self.hosts, self.clock)
        # host -> a half-open probe is out until then (bounded like the records themselves)
        self._probes: LRUCache[str, float] = LRUCache(MAX_HOSTS)
        self._pacing = HostPacing(
            ceiling=self.settings.per_host_concurrency,
            slow_seconds=self.settings.slow_seconds,
            clock=self.clock,
        )

    def limit(self, host: str) -> int:
        """How many deliveries to `host` may run at once now."""
        return self._pacing.limit(host)

    def throttled(self, host: str, until: float | None) -> None:
        """The host said 429/503 (with a Retry-After: `until`): fewer at once, and none
        before `until`."""
        self._pacing.narrow(host)
        if until is not None:
            self._pacing.pause(host, until)

    async def health(self, host: str) -> HostHealth:
        return replace(await self._records.get(host))

    async def peek(self, host: str) -> float | None:
        """None when a delivery to `host` may go ahead, else when to ask again. Takes nothing:
        use it to learn a host's state, and gate() only right before actually delivering.
        Unavailable hosts are open here: the deliver handler turns their jobs dead."""
        paused = self._pacing.paused_until(host)
        if paused is not None:
            return paused
        record = await self._records.get(host)
        return self._closed_until(record, self.clock())

    async def gate(self, host: str) -> float | None:
        """Like peek(), but when the breaker is half-open with no probe out, the caller
        becomes the probe: it must deliver and report success(), failure() or answered()."""
        paused = self._pacing.paused_until(host)
        if paused is not None:
            return paused
        record = await self._records.get(host)
        now = self.clock()
        closed_until = self._closed_until(record, now)
        if closed_until is None and record.circuit_open_until != 0.0:
            self._probes[host] = now + self.probe_seconds  # half-open: this caller probes
        return closed_until

    def _closed_until(self, record: HostHealth, now: float) -> float | None:
        open_until = record.circuit_open_until
        if open_until > now:
            return open_until
        probe_until = self._probes.get(record.host, 0.0)
        if open_until == 0.0 or probe_until <= now:
            return None  # closed breaker, or half-open with the probe slot free
        # Half-open with the probe out. Its answer may come any moment and changes the verdict
        # at once (success closes, failure reopens), so callers must re-ask soon rather than
        # wait out probe_until, which only bounds a probe that never reports.
        return min(now + self.recheck_seconds, probe_until)

    async def is_unavailable(self, host: str) -> bool:
        return (await self._records.get(host)).unavailable

    async def success(self, host: str, seconds: float = 0.0) -> None:
        """A delivery to `host` succeeded (2xx) after `seconds`: close the breaker, forget
        failures, and pace the host by how long it took."""
        self._pacing.answered_in(host, seconds)
        h = await self._records.get(host)
        now = self.clock()
        self._probes.pop(host, None)
        changed = bool(
            h.consecutive_failures or h.failure_days or h.circuit_open_until or h.unavailable
        )
        stale = now - h.last_success_at >= _SUCCESS_WRITE_INTERVAL
        self._records.put(
            replace(
                h,
                consecutive_failures=0,
                failure_days=[],
                circuit_open_until=0.0,
                unavailable=False,
                last_success_at=now,
            )
        )
        if changed or stale:
            await self.hosts.record_success(host, now)

    async def failure(self, host: str, *, timed_out: bool = False) -> None:
        """A delivery to `host` failed (no answer, 5xx, 404...). The store counts it (with
        every other worker's failures) and judges breaker and availability in one step; a
        delivery that timed out opens the breaker at once."""
        if timed_out:
            self._pacing.narrow(host)
        now = self.clock()
        self._probes.pop(host, None)
        s = self.settings
        failure = HostFailure(
            at=now,
            day=utc_day(now),
            breaker_threshold=1 if timed_out else s.breaker_threshold,
            breaker_open_seconds=s.breaker_open_seconds,
            unavailable_after_days=s.unavailable_after_days,
        )
        self._records.put(await self.hosts.record_failure(host, failure))

    def answered(self, host: str) -> None:
        """The host answered but the delivery was neither a success nor a host failure (a 4xx
        such as 400/403/410): ends a half-open probe without changing the record."""
        self._probes.pop(host, None)

    async def reset(self, host: str) -> HostHealth | None:
        """Admin: forget the host's failures, close its breaker, make it available again
        (what the transport learned about its signature scheme stays). None: no record."""
        self.forget(host)  # other processes re-read within their cache window
        return await self.hosts.reset_host(host)

    def forget(self, host: str) -> None:
        """Drop the cached record (it is re-read from the store on next use)."""
        self._records.forget(host)
