"""Rate-limited event lines, so that a flood of refused requests cannot fill a disk.

One token bucket per key (e.g. the refusal reason): a burst of `burst` lines, then `rate` lines
a second. What the bucket drops is counted, and one summary line per key reports the count
(`<event>.suppressed count=N`) when the key's next line goes out or when `flush()` runs, which
the gateway calls periodically so a flood that stops is still accounted for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from federation.observability.logs import event

# Keys beyond this are folded into one, so that attacker-chosen reasons cannot grow the table.
MAX_KEYS = 64
OTHER = "(other)"


@dataclass
class TokenBucket:
    """`burst` tokens at most, refilled at `rate` a second; one per allowed event."""

    tokens: float
    updated: float

    def take(self, now: float, rate: float, burst: float) -> bool:
        """Refill for the time since the last call, then spend one token if there is one."""
        self.tokens = min(burst, self.tokens + max(0.0, now - self.updated) * rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def seconds_to_next(self, rate: float) -> float:
        """How long until one token is back (0 when one is there)."""
        return max(0.0, 1.0 - self.tokens) / rate


@dataclass
class _Bucket(TokenBucket):
    suppressed: int = 0


class RateLimitedEvents:
    def __init__(
        self,
        logger: logging.Logger,
        name: str,
        clock: Callable[[], float],
        *,
        burst: int = 10,
        rate: float = 1.0,
        level: int = logging.WARNING,
    ) -> None:
        self._logger = logger
        self._name = name
        self._clock = clock
        self._burst = float(burst)
        self._rate = rate
        self._level = level
        self._buckets: dict[str, _Bucket] = {}

    def emit(self, key: str, message: str = "", **fields: Any) -> bool:
        """Log the event for `key` unless its bucket is empty; True when a line was written."""
        now = self._clock()
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            key = OTHER
        bucket = self._buckets.setdefault(key, _Bucket(self._burst, now))
        if not bucket.take(now, self._rate, self._burst):
            bucket.suppressed += 1
            return False
        self._summarise(key, bucket)
        event(self._logger, self._name, message, self._level, reason=key, **fields)
        return True

    def flush(self) -> int:
        """Write the summary line of every key with suppressed lines; returns how many."""
        written = 0
        for key, bucket in self._buckets.items():
            if bucket.suppressed:
                self._summarise(key, bucket)
                written += 1
        return written

    def _summarise(self, key: str, bucket: _Bucket) -> None:
        if bucket.suppressed:
            event(
                self._logger,
                f"{self._name}.suppressed",
                f"{bucket.suppressed} more {self._name} lines suppressed",
                self._level,
                reason=key,
                count=bucket.suppressed,
            )
            bucket.suppressed = 0
