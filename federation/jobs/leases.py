"""The runner's heartbeat: it renews the leases of the jobs it holds while it works on them.

A lease only has to outlast one heartbeat, not the longest job, so it can be short: a worker
that dies (a crash, kill -9, a lost machine) stops renewing, and its jobs become claimable by
the other workers about one lease later instead of after a lease sized for the slowest peer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass

from federation.job_ports import JobQueue
from federation.jobs.periodic import Periodic
from federation.records import Job

log = logging.getLogger("federation.jobs")

HEARTBEATS_PER_LEASE = 3  # two heartbeats may fail or be late before a lease runs out


@dataclass(eq=False, repr=False)
class LeaseKeeper:
    """Holds the ids of one owner's leased jobs and extends their leases every
    lease_seconds / HEARTBEATS_PER_LEASE while they are held."""

    queue: JobQueue
    _: KW_ONLY
    owner: str
    clock: Callable[[], float]
    lease_seconds: float

    def __post_init__(self) -> None:
        self._until: dict[int | str, float] = {}  # job id -> its lease's end, as last written
        self._forfeited: set[int | str] = set()  # held when we learned we were judged dead
        self._beats = Periodic(
            f"leases:{self.owner}",
            self.renew,
            self.lease_seconds / HEARTBEATS_PER_LEASE,
            failure="renewing leases failed; trying again at the next heartbeat",
            logger=log,
        )

    def hold(self, job: Job) -> None:
        self._until[job.id] = job.lease_until

    def drop(self, job: Job) -> None:
        self._until.pop(job.id, None)
        self._forfeited.discard(job.id)

    def forfeit(self) -> None:
        """Our heartbeat stalled long enough for others to take our jobs over: treat every
        lease held now as ended, so none of those jobs is started (a waiting one is handed
        back; one taken over already cannot be renewed or settled by us anyway)."""
        self._forfeited.update(self._until)

    def lease_until(self, job: Job) -> float:
        """When the lease of `job` ends, renewals included (0 once forfeited)."""
        if job.id in self._forfeited:
            return 0.0
        return self._until.get(job.id, job.lease_until)

    async def renew(self) -> int:
        """Extend every held lease to a full lease from now; returns how many were renewed."""
        ids = list(self._until)  # forfeited ones too: those still ours stay ours while they run
        if not ids:
            return 0
        now = self.clock()
        until = now + self.lease_seconds
        renewed = await self.queue.renew_leases(ids, self.owner, until, now)
        for job_id in ids:
            if job_id in self._until:  # not finished while the write was under way
                self._until[job_id] = until
        if renewed < len(ids):
            # Finished meanwhile (expected), or taken over after a stall: then settling it
            # fails and says so.
            log.debug("renewed %d of %d leases", renewed, len(ids))
        return renewed

    def start(self) -> None:
        self._beats.start()

    async def stop(self) -> None:
        await self._beats.stop()
