"""Queue depth over the last hour, for the admin page's chart.

The store keeps jobs, not their history, so the web process samples the number of queued jobs
once a minute (and when asked, at most once every few seconds) and keeps the last hour in
memory. A restarted process starts a new history.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from federation.job_ports import JobAdmin
from federation.jobs.periodic import Periodic
from federation.records import JobState
from federation.web.appkeys import CLOCK, STORE

log = logging.getLogger("federation.admin.depth")

SAMPLE_EVERY = 60.0
KEEP = 60  # samples: one hour
MIN_GAP = 5.0  # an on-demand sample at most this often


class QueueDepth:
    def __init__(self, queue: JobAdmin, clock: Callable[[], float]) -> None:
        self._queue = queue
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque(maxlen=KEEP + 1)

    async def sample(self) -> None:
        now = self._clock()
        counts = await self._queue.counts()
        queued = sum(n for (state, _), n in counts.items() if state == JobState.QUEUED.value)
        if self._samples and now - self._samples[-1][0] < SAMPLE_EVERY:
            self._samples[-1] = (now, queued)  # the latest minute's sample, refreshed
        else:
            self._samples.append((now, queued))

    async def series(self) -> list[tuple[float, int]]:
        """(time, queued) over the last hour, oldest first, ending with a fresh sample."""
        if not self._samples or self._clock() - self._samples[-1][0] >= MIN_GAP:
            await self.sample()
        horizon = self._clock() - KEEP * SAMPLE_EVERY
        return [(at, n) for at, n in self._samples if at >= horizon]


QUEUE_DEPTH: web.AppKey[QueueDepth] = web.AppKey("queue_depth")


async def sampling(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context (after the store's): sample while the app runs."""
    depth = QueueDepth(app[STORE], app[CLOCK])
    app[QUEUE_DEPTH] = depth
    rounds = Periodic(
        "queue-depth",
        depth.sample,
        SAMPLE_EVERY,
        at_start=True,
        failure="sampling the queue depth failed",
        logger=log,
    )
    rounds.start()
    try:
        yield
    finally:
        await rounds.stop()
