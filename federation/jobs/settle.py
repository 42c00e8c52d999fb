"""Settling a job once its handler has answered: done, retried later, or dead.

Done jobs are completed in groups (one write for up to COMPLETE_BATCH of them, at most
COMPLETE_DELAY seconds after the first): a write transaction costs about the same whatever it
holds. Delivery stays at-least-once: if the process dies before a group is written, its jobs
are still leased to us, so they run again once their leases expire, as after any crash
mid-job. Handlers are idempotent and receivers drop duplicate activity ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass

from federation.job_ports import JobQueue
from federation.jobs.coalesce import Coalescer
from federation.jobs.joblog import log_settled
from federation.jobs.outcomes import Dead, Done, JobOutcome, is_last_attempt
from federation.records import Job

log = logging.getLogger("federation.jobs")

COMPLETE_BATCH = 32
COMPLETE_DELAY = 0.005  # seconds; short against any lease, long against one job's run


@dataclass(eq=False, repr=False)
class Settler:
    """Writes one owner's job outcomes to the queue; a retry waits for `backoff(attempt)`
    unless the handler said when, and the attempt `max_attempts` is the last."""

    queue: JobQueue
    _: KW_ONLY
    owner: str
    clock: Callable[[], float]
    backoff: Callable[[int], float]
    max_attempts: int
    complete_batch: int = COMPLETE_BATCH
    complete_delay: float = COMPLETE_DELAY

    def __post_init__(self) -> None:
        self._completions: Coalescer[tuple[int | str, str], None] = Coalescer(
            self._complete_many, max_items=self.complete_batch, max_delay=self.complete_delay
        )

    async def flush(self) -> None:
        """Write the completions still waiting for their group."""
        await self._completions.flush()

    async def settle(self, job: Job, outcome: JobOutcome) -> None:
        if isinstance(outcome, Done):
            log_settled(job, "done")
            # Not awaited: the job's slots are free for the next job while the group fills.
            self._completions.submit((job.id, self.owner))
            return
        now = self.clock()
        if isinstance(outcome, Dead):
            log_settled(job, "gave_up", outcome.error)
            settled = await self.queue.fail(job.id, self.owner, outcome.error, now)
        elif is_last_attempt(job, self.max_attempts):
            error = f"gave up after {job.attempts + 1} attempts: {outcome.error}"
            log_settled(job, "gave_up", error)
            settled = await self.queue.fail(job.id, self.owner, error, now)
        else:
            at = outcome.at if outcome.at is not None else now + self.backoff(job.attempts + 1)
            log_settled(job, "retry", outcome.error, at)
            settled = await self.queue.retry(job.id, self.owner, at, outcome.error, now)
        if not settled:
            log.warning("job %s: lease lost before settling (%s)", job.id, outcome)

    async def _complete_many(self, items: Sequence[tuple[int | str, str]]) -> list[None]:
        try:
            completed = await self.queue.complete_many(items, self.clock())
        except Exception:
            # Still leased to us: they run again when their leases expire (at-least-once).
            log.exception("completing %d jobs failed; their leases will expire", len(items))
        else:
            if completed < len(items):
                log.warning(
                    "%d of %d done jobs lost their lease", len(items) - completed, len(items)
                )
        return [None] * len(items)
