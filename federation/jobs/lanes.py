"""Per-host lanes: at most `limit(host)` jobs of one host run at once, a limit that may change
while jobs wait (delivery/pacing.py narrows a slow or throttling host's lane and widens it
again), so a plain semaphore, whose size is fixed, would not do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


class _Lane:
    __slots__ = ("running", "turn")

    def __init__(self) -> None:
        self.running = 0
        self.turn = asyncio.Condition()


class Lanes:
    def __init__(self, limit: Callable[[str], int]) -> None:
        self._limit = limit
        self._lanes: dict[str, _Lane] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of `host`'s slots; the empty host (local work) has no lane."""
        if not host:
            yield
            return
        lane = self._lanes.setdefault(host, _Lane())
        async with lane.turn:
            await lane.turn.wait_for(lambda: lane.running < max(1, self._limit(host)))
            lane.running += 1
        try:
            yield
        finally:
            async with lane.turn:
                lane.running -= 1
                # All, not one: the limit may have grown while they waited.
                lane.turn.notify_all()

    def limit(self, host: str) -> int:
        return max(1, self._limit(host))

    def forget(self, host: str) -> None:
        """The host has no job held any more: drop its (idle) lane."""
        lane = self._lanes.get(host)
        if lane is not None and lane.running == 0:
            del self._lanes[host]
