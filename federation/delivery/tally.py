"""Counts delivery attempts per host and minute for the admin's health views.

Counting in memory and adding the counts to the store every `flush_seconds` (one write for
every host and minute seen since) keeps the delivery path free of an extra write per attempt;
a crash loses at most those seconds of counts, which only feed statistics. The same loop
prunes counters older than `keep_seconds`.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass

from federation.jobs.periodic import Periodic
from federation.ports import DeliveryStats
from federation.records import DeliveryCount

log = logging.getLogger("federation.delivery.tally")

FLUSH_SECONDS = 5.0
KEEP_SECONDS = 8 * 86400.0  # the health view looks back seven days
PRUNE_EVERY = 3600.0


@dataclass(eq=False, repr=False)
class DeliveryTally:
    stats: DeliveryStats
    clock: Callable[[], float]
    _: KW_ONLY
    flush_seconds: float = FLUSH_SECONDS
    keep_seconds: float = KEEP_SECONDS

    def __post_init__(self) -> None:
        self._delivered: Counter[tuple[str, int]] = Counter()
        self._failed: Counter[tuple[str, int]] = Counter()
        self._pruned_at = 0.0
        self._rounds = Periodic(
            "delivery-tally",
            self._write,
            self.flush_seconds,
            failure="writing delivery counts failed; those counts are lost",
            logger=log,
        )

    def record(self, host: str, delivered: bool) -> None:
        """One attempt to deliver to `host`: it delivered, or it failed (any other answer)."""
        key = (host, int(self.clock() // 60 * 60))
        (self._delivered if delivered else self._failed)[key] += 1

    async def flush(self) -> None:
        keys = sorted(set(self._delivered) | set(self._failed), key=lambda k: (k[1], k[0]))
        counts = [
            DeliveryCount(
                host=host,
                minute=minute,
                delivered=self._delivered[(host, minute)],
                failed=self._failed[(host, minute)],
            )
            for host, minute in keys
        ]
        self._delivered.clear()
        self._failed.clear()
        await self.stats.add_delivery_counts(counts)

    async def _write(self) -> None:
        await self.flush()
        now = self.clock()
        if now - self._pruned_at >= PRUNE_EVERY:
            await self.stats.prune_delivery_counts(now - self.keep_seconds)
            self._pruned_at = now

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
        with contextlib.suppress(Exception):
            await self.flush()
