"""The runner's heartbeat in the store, and the takeover of a stopped runner's jobs.

Every runner writes a beat every `takeover_seconds / BEATS_PER_WINDOW`, and after each beat
releases the jobs of owners whose beat is older than `takeover_seconds` (job_ports.Liveness): a
process killed with SIGKILL has its jobs running elsewhere a few seconds later, however long
their leases. A live runner's beats keep it fresh, so its jobs are never taken from it.

A runner whose beats stalled (a store write that hung, a frozen process) may have been judged
dead meanwhile: when a beat finds its previous one older than the window, or finds its record
gone, it tells the runner (`on_judged_dead`), which stops starting the jobs it held; the ones
taken over can no longer be renewed or settled by it (the queue checks the lease holder).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass

from federation.job_ports import Liveness
from federation.jobs.periodic import Periodic

log = logging.getLogger("federation.jobs")

BEATS_PER_WINDOW = 4  # three beats may fail or be late before others take the jobs over


@dataclass(eq=False, repr=False)
class Heartbeat:
    store: Liveness
    _: KW_ONLY
    owner: str
    clock: Callable[[], float]
    takeover_seconds: float
    on_takeover: Callable[[], None]
    on_judged_dead: Callable[[], None]

    def __post_init__(self) -> None:
        self._beaten = False  # a first beat finds no record: that is no verdict
        self._started = False
        self._beats = Periodic(
            f"beat:{self.owner}",
            self.beat,
            self.takeover_seconds / BEATS_PER_WINDOW,
            failure="heartbeat failed; trying again at the next one",
            logger=log,
        )

    async def beat(self) -> None:
        """Say we are alive (learning whether we were judged dead), then take over the jobs
        of owners that went silent."""
        now = self.clock()
        previous = await self.store.beat(self.owner, now)
        if self._beaten and (previous is None or previous < now - self.takeover_seconds):
            log.warning(
                "runner %s: heartbeat late by more than %.1f s; its jobs may have been taken"
                " over, so it stops the ones it held",
                self.owner,
                self.takeover_seconds,
            )
            self.on_judged_dead()
        self._beaten = True
        released = await self.store.release_stale(now - self.takeover_seconds, now)
        if released:
            log.info(
                "took over %d job(s) of runner(s) silent for %.1f s",
                released,
                self.takeover_seconds,
            )
            self.on_takeover()

    async def start(self) -> None:
        """Beat once before the first claim (a claim without a record could not be defended),
        then every interval."""
        if self._started:
            return
        self._started = True
        try:
            await self.beat()
        except Exception:  # the store is down: the runner starts, the next beat retries
            log.exception("first heartbeat failed; trying again at the next one")
        self._beats.start()

    async def stop(self) -> None:
        await self._beats.stop()
        self._started = False
