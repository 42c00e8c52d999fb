"""The worker-side schedule of blocklist subscriptions: every minute, fetch the lists that are
due. Several worker processes may run it: the store lets exactly one of them claim each fetch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from federation.admin.api import ADMIN
from federation.admin.subscriptions import BlocklistSubscriptions
from federation.jobs.periodic import Periodic

log = logging.getLogger("federation.admin")

TICK_SECONDS = 60.0


def subscription_schedule(
    subscriptions: BlocklistSubscriptions, tick: float = TICK_SECONDS
) -> Periodic:
    """Fetch the due lists now and every `tick` seconds (start() and stop() it)."""
    return Periodic(
        "blocklist-subscriptions",
        subscriptions.refresh_due,
        tick,
        at_start=True,
        failure="refreshing blocklist subscriptions failed; trying again later",
        logger=log,
    )


async def scheduling(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context of worker processes (after the services are built)."""
    schedule = subscription_schedule(app[ADMIN].subscriptions)
    schedule.start()
    try:
        yield
    finally:
        await schedule.stop()
