"""The worker-side schedule of blocklist subscriptions: every minute, fetch the lists that are
due. Several worker processes may run it: the store lets exactly one of them claim each fetch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from federation.admin.api import ADMIN
from federation.admin.subscriptions import BlocklistSubscriptions

log = logging.getLogger("federation.admin")

TICK_SECONDS = 60.0


class SubscriptionSchedule:
    def __init__(self, subscriptions: BlocklistSubscriptions, tick: float = TICK_SECONDS) -> None:
        self._subscriptions = subscriptions
        self._tick = tick
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="blocklist-subscriptions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self._subscriptions.refresh_due()
            except Exception:
                log.exception("refreshing blocklist subscriptions failed; trying again later")
            await asyncio.sleep(self._tick)


async def scheduling(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context of worker processes (after the services are built)."""
    schedule = SubscriptionSchedule(app[ADMIN].subscriptions)
    schedule.start()
    try:
        yield
    finally:
        await schedule.stop()
