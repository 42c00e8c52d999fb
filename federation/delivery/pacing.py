"""Per-host pacing: how many deliveries a host gets at once, and when it asked us to wait.

AIMD, as TCP paces a path: a host that answers slowly (over `slow_seconds`), times out, or
says 429/503 gets its lane halved (down to one delivery at a time); every answer in time
widens it again by one slot per lane's worth of answers, up to the configured per-host limit.
A Retry-After on a 429/503 pauses that host (only that one) until then.

State is in memory, per process, and only for hosts away from the defaults: a host back at
full width with no pause has no entry. Another process learns the same from its own answers.
"""

from __future__ import annotations

from collections.abc import Callable

from cachetools import LRUCache

from federation.http.hostrecords import MAX_HOSTS


class HostPacing:
    def __init__(self, *, ceiling: int, slow_seconds: float, clock: Callable[[], float]) -> None:
        self._ceiling = ceiling
        self._slow = slow_seconds
        self._clock = clock
        # Bounded like the host records: a host forgotten here is back at full width, unpaused.
        self._widths: LRUCache[str, float] = LRUCache(MAX_HOSTS)  # below the ceiling only
        self._paused: LRUCache[str, float] = LRUCache(MAX_HOSTS)  # until its Retry-After

    def limit(self, host: str) -> int:
        return int(self._widths.get(host, self._ceiling))

    def answered_in(self, host: str, seconds: float) -> None:
        """A delivery answered after `seconds`: slow narrows the lane, in time widens it."""
        if seconds >= self._slow:
            self.narrow(host)
        else:
            self._widen(host)

    def narrow(self, host: str) -> None:
        self._widths[host] = max(1.0, self._widths.get(host, self._ceiling) / 2)

    def _widen(self, host: str) -> None:
        width = self._widths.get(host)
        if width is None:
            return
        width += 1 / width  # one slot per lane's worth of answers in time
        if width >= self._ceiling:
            del self._widths[host]
        else:
            self._widths[host] = width

    def pause(self, host: str, until: float) -> None:
        self._paused[host] = max(until, self._paused.get(host, 0.0))

    def paused_until(self, host: str) -> float | None:
        until = self._paused.get(host)
        if until is None:
            return None
        if until <= self._clock():
            del self._paused[host]
            return None
        return until
