"""Which hosts the runner may claim and run jobs for now: the admin's pauses, read from the
store, and the hosts the host-health breaker closed, as learned from jobs' outcomes.

Hosts an admin paused are read before every claim and excluded from it, so their jobs stay
queued, untried and uncounted. Right before a job runs they are read again unless that read is
under `paused_recheck` seconds old: a job whose host was paused since its claim goes back
unchanged. A closed host is excluded from claims until it reopens; its claimed jobs are handed
back to run when it does.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection

from federation.jobs.outcomes import HostHealth

PausedHosts = Callable[[], Awaitable[Collection[str]]]
# A job about to run re-reads the paused hosts when the set read at the latest claim is older:
# under load claims come every few jobs, so this rarely costs a read (on MongoDB a round trip).
PAUSED_RECHECK = 0.5


class HostGate:
    """The hosts closed or paused, for one runner."""

    def __init__(
        self,
        health: HostHealth | None,
        paused: PausedHosts | None,
        *,
        per_host: int,
        paused_recheck: float = PAUSED_RECHECK,
    ) -> None:
        self._health = health
        self._paused = _PausedHosts(paused, paused_recheck)
        self._per_host = per_host
        self._closed: dict[str, float] = {}  # host -> closed until (from host health)

    def limit(self, host: str) -> int:
        """How many of the host's jobs may run at once (fewer for a slow host)."""
        if self._health is None:
            return self._per_host
        return min(self._per_host, self._health.limit(host))

    async def read_paused(self) -> None:
        await self._paused.read()

    def excluded(self, now: float, busy: Collection[str]) -> list[str]:
        """The hosts a claim must skip: `busy` ones, closed ones, paused ones."""
        for host, until in list(self._closed.items()):
            if until <= now:
                del self._closed[host]
        return sorted({*busy, *self._closed, *self._paused.hosts})

    def next_reopen(self, now: float) -> float | None:
        return min((until for until in self._closed.values() if until > now), default=None)

    async def held_back_until(self, host: str, next_attempt_at: float) -> float | None:
        """None when a job for `host` may run now, else when it should be handed back."""
        if host and await self._paused.holds(host):
            return next_attempt_at  # paused since its claim: back in its place, untried
        if self._health is None:
            return None
        return self._note_closed(host, await self._health.gate(host))

    async def reopened_after_job(self, host: str) -> bool:
        """After a job, learn whether its host closed (so claims skip it) or reopened (true:
        its backlog may be claimed at once). peek(), not gate(): never takes the probe."""
        if self._health is None:
            return False
        if self._note_closed(host, await self._health.peek(host)) is not None:
            return False
        return self._closed.pop(host, None) is not None

    def _note_closed(self, host: str, closed_until: float | None) -> float | None:
        if closed_until is not None:
            self._closed[host] = closed_until
        return closed_until


class _PausedHosts:
    """The hosts an admin paused, as read before the latest claim; a job that waited for its
    slot long after its claim reads them again when that read is stale."""

    def __init__(self, read: PausedHosts | None, recheck: float) -> None:
        self._read = read
        self._recheck = recheck
        self.hosts: frozenset[str] = frozenset()
        self._read_at = -float("inf")  # time.monotonic() of the latest read

    async def read(self) -> None:
        if self._read is not None:
            self.hosts = frozenset(await self._read())
            self._read_at = time.monotonic()

    async def holds(self, host: str) -> bool:
        if time.monotonic() - self._read_at >= self._recheck:
            await self.read()
        return host in self.hosts
