"""Periodic housekeeping: forget finished jobs once their dedupe window has passed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from federation.ports import JobQueue
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
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        pruned = await self._queue.prune_done(self._clock() - self._retention)
        if pruned:
            log.info("pruned %d finished jobs past the dedupe window", pruned)
        return pruned

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("maintenance failed; trying again later")
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
