"""One background loop: run an action every `interval` seconds until stopped.

Every periodic chore of a process (pruning finished jobs, flushing delivery counts, sampling
the queue depth, renewing leases, summarising suppressed log lines) is one of these, so each
starts, stops and survives a failed round the same way: a round that raises is logged and the
loop goes on, and stop() waits for the loop to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass

log = logging.getLogger("federation.periodic")


@dataclass(eq=False, repr=False)
class Periodic:
    """`action` every `interval` seconds; `at_start`: the first round runs at once, else
    after one interval. A failed round logs `failure` with its traceback."""

    name: str
    action: Callable[[], Awaitable[object]]
    interval: float
    _: KW_ONLY
    at_start: bool = False
    failure: str = "a periodic round failed; trying again at the next one"
    logger: logging.Logger = log

    def __post_init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        if not self.at_start:
            await asyncio.sleep(self.interval)
        while True:
            try:
                await self.action()
            except Exception:
                self.logger.exception(self.failure)
            await asyncio.sleep(self.interval)
