"""Request limits per peer, kept by the routes that answer peers: one token bucket per key (a
peer's host, or a client address), in a table of bounded size."""

from __future__ import annotations

import math
from collections.abc import Callable

from cachetools import TTLCache

from federation.observability.ratelimit import TokenBucket

# Peers tracked at once per table; past it the least recently seen one is forgotten (a full
# bucket again), which only a flood of distinct keys can cause, each of them itself limited.
MAX_PEERS = 10_000


class PeerBuckets:
    """`burst` requests at once per key, then `rate` a second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        max_peers: int = MAX_PEERS,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        # A bucket left alone for burst/rate seconds is full again: forgetting it then loses
        # nothing, so that is how long an idle peer is remembered.
        self._buckets: TTLCache[str, TokenBucket] = TTLCache(
            maxsize=max_peers, ttl=self.burst / rate, timer=clock
        )

    def allow(self, key: str) -> bool:
        """Spend one of `key`'s tokens; False when it has none left."""
        now = self._clock()
        bucket = self._buckets.get(key) or TokenBucket(self.burst, now)
        allowed = bucket.take(now, self.rate, self.burst)
        self._buckets[key] = bucket  # (re)set: the idle time counts from the last request
        return allowed

    def give_back(self, key: str) -> None:
        """Return a token spent on a request that turned out not to be `key`'s."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst, bucket.tokens + 1.0)

    def empty(self, key: str) -> bool:
        """Whether `key` has no token left right now (nothing is spent)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return False
        now = self._clock()
        refilled = bucket.tokens + max(0.0, now - bucket.updated) * self.rate
        return refilled < 1.0

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has a token again (at least 1: Retry-After is whole)."""
        bucket = self._buckets.get(key)
        wait = 0.0 if bucket is None else bucket.seconds_to_next(self.rate)
        return max(1, math.ceil(wait))


def per_minute(answers: int, clock: Callable[[], float]) -> PeerBuckets:
    """At most `answers` a minute per key, all of them at once if a peer likes."""
    return PeerBuckets(answers / 60.0, answers, clock)
