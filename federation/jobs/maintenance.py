"""Periodic housekeeping: forget finished jobs once their dedupe window has passed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from federation.job_ports import JobQueue
from federation.jobs.periodic import Periodic
from federation.records import DONE_JOB_RETENTION

log = logging.getLogger("federation.maintenance")

DEDUPE_RETENTION = DONE_JOB_RETENTION
INTERVAL = 3600.0


class Maintenance:
    def __init__(
        self,
        *,
        queue: JobQueue,
        clock: Callable[[], float],
        retention: float = DEDUPE_RETENTION,
        interval: float = INTERVAL,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._retention = retention
        self._rounds = Periodic(
            "maintenance",
            self.run_once,
            interval,
            at_start=True,
            failure="maintenance failed; trying again later",
            logger=log,
        )

    async def run_once(self) -> int:
        pruned = await self._queue.prune_done(self._clock() - self._retention)
        if pruned:
            log.info("pruned %d finished jobs past the dedupe window", pruned)
        return pruned

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
