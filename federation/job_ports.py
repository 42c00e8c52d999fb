"""What the job runner, whoever queues work, and the admin need from the durable job queue.

Two ports over one queue, split by who calls them: `JobQueue` for the workers and the services
that queue work, `JobAdmin` for the admin and the metrics; `Liveness` is the runners' heartbeat
that hands a stopped runner's leases to the others. Every adapter in federation/storage/
implements all three (ports.Store gathers them with the other storage ports).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from federation.records import Job, JobState, NewJob


class JobQueue(Protocol):
    """The job queue as workers and the services that queue work use it: enqueue, lease,
    settle, and the runner's housekeeping. Admin views use JobAdmin."""

    async def enqueue(self, jobs: Sequence[NewJob], now: float) -> int:
        """Persist jobs; a job whose dedupe_key exists already (in any state) is skipped.
        Returns how many were inserted."""

    async def enqueue_each(self, jobs: Sequence[NewJob], now: float) -> list[bool]:
        """Like enqueue, in one write, telling each job apart: True where it was inserted,
        False where its dedupe_key existed already (or earlier in this same batch)."""

    async def claim(
        self,
        owner: str,
        now: float,
        lease_seconds: float,
        limit: int,
        kinds: Sequence[str] | None = None,
        exclude_hosts: Sequence[str] = (),
    ) -> list[Job]:
        """Lease up to `limit` due, unleased QUEUED jobs (oldest next_attempt_at first).
        A job leased by an owner that died becomes claimable when its lease expires.
        No job is ever held by two owners at once."""

    async def renew_leases(
        self, job_ids: Sequence[int | str], owner: str, lease_until: float, now: float
    ) -> int:
        """Extend to `lease_until` the lease of each job that `owner` still holds (QUEUED and
        leased to it, expired or not), in one write; a job another owner has claimed since,
        or that is finished, is left alone. Returns how many were renewed."""

    async def complete_many(self, items: Sequence[tuple[int | str, str]], now: float) -> int:
        """Mark each (job id, owner) DONE (attempt counted, lease released), in one write; a
        job whose lease that owner no longer holds is left alone. Returns how many were
        completed."""

    async def retry(
        self, job_id: int | str, owner: str, next_attempt_at: float, error: str, now: float
    ) -> bool:
        """Release the lease, count the attempt, schedule the next one."""

    async def fail(self, job_id: int | str, owner: str, error: str, now: float) -> bool:
        """Mark DEAD (attempt counted), kept for inspection."""

    async def defer(
        self, job_id: int | str, owner: str, next_attempt_at: float, now: float
    ) -> bool:
        """Release the lease and schedule the job for `next_attempt_at` WITHOUT counting an
        attempt or touching last_error: the holder decided not to run it (e.g. its host is
        closed). False when `owner` no longer holds the lease."""

    async def release_all_leases(self, now: float) -> int:
        """Make every leased QUEUED job claimable at once; returns how many were leased. Only a
        process that owns the store alone may call this (at start, before its runner claims):
        the leases it drops can only be its own previous incarnation's, whose owner is dead."""

    async def next_due_at(self) -> float | None:
        """Earliest next_attempt_at (or lease expiry) among QUEUED jobs, for sleeping."""

    async def prune_done(self, older_than: float) -> int:
        """Delete DONE jobs last updated before `older_than` (keeps dedupe keys long enough)."""


class JobAdmin(Protocol):
    """The job queue as admins and monitoring see it: counts, listings, and moving jobs by
    an admin's decision. Workers use JobQueue."""

    async def counts(self) -> dict[tuple[str, str], int]:
        """{(state, host): count} over all jobs."""

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        """{(kind, state): count} over QUEUED and DEAD jobs (the metrics' queue gauge)."""

    async def list_jobs(
        self, state: JobState, host: str | None = None, limit: int = 100
    ) -> list[Job]: ...

    async def requeue_dead(
        self, now: float, job_id: int | str | None = None, host: str | None = None
    ) -> int:
        """Put DEAD jobs (one, one host's, or all) back to QUEUED, due now, attempts reset."""

    async def retry_queued_now(self, now: float, host: str, job_id: int | str | None = None) -> int:
        """Make a host's unleased QUEUED jobs (or one of them) due now, attempts kept; returns
        how many. A leased job is running: it is left alone."""

    async def drop_queued_for_host(self, host: str, now: float) -> int:
        """Mark a host's QUEUED jobs DEAD with error 'dropped' (domain blocked)."""


class Liveness(Protocol):
    """Runner processes saying they are alive, so that the others take over the jobs of one
    that stopped within seconds instead of a lease (jobs/liveness.py)."""

    async def beat(self, owner: str, now: float) -> float | None:
        """Record that `owner` is alive at `now`; returns its previous beat, None when it has
        no record (a first beat, or it was judged dead and forgotten)."""

    async def release_stale(self, stale_before: float, now: float) -> int:
        """Make claimable at once every QUEUED job leased to an owner whose latest beat is
        before `stale_before`, unless that owner wrote the job (claimed or renewed it) at or
        after `stale_before`; then forget such owners that hold no lease any more. Each job's
        check and release is one atomic write, so an owner that beats again keeps what it
        wrote since. Owners that never beat are left to their leases. Returns how many."""
