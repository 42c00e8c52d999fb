"""Periodic housekeeping: forget finished jobs once their dedupe window has passed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from federation.job_ports import JobQueue
from federation.jobs.periodic import Periodic
from federation.records import DONE_JOB_RETENTION

log = logging.getLogger("federation.maintenance")

DEDUPE_RETENTION = DONE_JOB_RETENTION
INTERVAL = 3600.0


@dataclass(eq=False, repr=False, kw_only=True)
class Maintenance:
    queue: JobQueue
    clock: Callable[[], float]
    retention: float = DEDUPE_RETENTION
    interval: float = INTERVAL

    def __post_init__(self) -> None:
        self._rounds = Periodic(
            "maintenance",
            self.run_once,
            self.interval,
            at_start=True,
            failure="maintenance failed; trying again later",
            logger=log,
        )

    async def run_once(self) -> int:
        pruned = await self.queue.prune_done(self.clock() - self.retention)
        if pruned:
            log.info("pruned %d finished jobs past the dedupe window", pruned)
        return pruned

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
