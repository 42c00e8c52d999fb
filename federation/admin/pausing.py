"""Pausing and resuming delivery to one host (Misskey's per-queue pause, Mastodon's stop).

A pause names one stored host key exactly (no subdomains: delivery groups jobs by the inbox's
host). While it holds, the job runners leave the host's jobs queued: none is attempted, so no
failure is counted against the host (its breaker and unavailable verdict stay as they were),
and resuming makes the backlog claimable again in its order. A delivery already under way
when the pause lands finishes. Inbound traffic from the host is not affected; a block is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from federation.errors import FederationError
from federation.job_ports import JobAdmin
from federation.ports import HostPauses
from federation.records import HostPause, JobState

log = logging.getLogger("federation.admin")


class NotPaused(FederationError):
    """Resume of a host that is not paused."""


@dataclass(eq=False, kw_only=True)
class HostPausing:
    store: HostPauses
    queue: JobAdmin
    wake: Callable[[], None]
    clock: Callable[[], float]

    async def pause(self, host: str, reason: str) -> HostPause:
        """Pause `host` (a stored host key); pausing a paused host keeps the first pause."""
        await self.store.pause_host(HostPause(host=host, reason=reason, paused_at=self.clock()))
        log.info("paused delivery to %s", host)
        return next(p for p in await self.store.paused_hosts() if p.host == host)

    async def resume(self, host: str) -> int:
        """Lift the pause; returns how many of the host's jobs are waiting to go."""
        if not await self.store.resume_host(host):
            raise NotPaused(f"delivery to {host} is not paused")
        waiting = (await self.queue.counts()).get((JobState.QUEUED.value, host), 0)
        log.info("resumed delivery to %s: %d jobs waiting", host, waiting)
        self.wake()
        return waiting

    async def paused(self) -> list[HostPause]:
        return await self.store.paused_hosts()
