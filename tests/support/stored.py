"""What tests read and write in a store, through the ports production uses.

No port reads one job by id or by dedupe key, completes one job alone, or marks a host
unavailable by decree: the gateway does none of these. Tests look through the admin's listing
and drive hosts through recorded failures instead, so they observe what production does.
"""

from __future__ import annotations

from federation.delivery.hosthealth import utc_day
from federation.job_ports import JobAdmin, JobQueue
from federation.ports import HostStore
from federation.records import HostFailure, Job, JobState

# Larger than any queue a test builds: a listing this long holds every job of a state.
EVERY_JOB = 1_000_000
# High enough that a verdict never fires from it.
NEVER = 1_000_000


async def jobs_by_id(store: JobAdmin) -> dict[str, Job]:
    """Every stored job, whatever its state, by its id as a string (one listing per state)."""
    return {
        str(job.id): job
        for state in JobState
        for job in await store.list_jobs(state, limit=EVERY_JOB)
    }


async def find_job(store: JobAdmin, job_id: int | str) -> Job | None:
    """The job with this id, whatever its state; None when there is none (e.g. pruned)."""
    return (await jobs_by_id(store)).get(str(job_id))


async def has_job_keyed(store: JobAdmin, dedupe_key: str) -> bool:
    """Whether a job with this dedupe key is stored, in any state."""
    for state in JobState:
        if any(j.dedupe_key == dedupe_key for j in await store.list_jobs(state, limit=EVERY_JOB)):
            return True
    return False


async def jobs_of_kind(store: JobAdmin, kind: str, *states: JobState) -> list[Job]:
    """Every stored job of `kind` in one of `states` (in any state when none is named)."""
    return [
        job
        for state in states or tuple(JobState)
        for job in await store.list_jobs(state, limit=EVERY_JOB)
        if job.kind == kind
    ]


async def complete(store: JobQueue, job_id: int | str, owner: str, now: float) -> bool:
    """Complete one job as the runner does (a batch of one); False when `owner` lost it."""
    return await store.complete_many([(job_id, owner)], now) == 1


async def make_unavailable(store: HostStore, host: str, at: float) -> None:
    """One failure judged with a one-day threshold: the host is unavailable after it (the
    breaker stays closed)."""
    failure = HostFailure(
        at=at,
        day=utc_day(at),
        breaker_threshold=NEVER,
        breaker_open_seconds=0.0,
        unavailable_after_days=1,
    )
    assert (await store.record_failure(host, failure)).unavailable
