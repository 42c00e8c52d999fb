"""JobAdmin contract (counts, listing, requeue) and JobQueue housekeeping (pruning)."""

from __future__ import annotations

from federation.ports import Store
from federation.records import Job, JobState
from tests.support.stored import complete, find_job, has_job_keyed

from .builders import LEASE, T0, claim_one, new_job, stored_job


async def _kill(store: Store, key: str, host: str, now: float = T0) -> Job:
    """Enqueue one job and drive it to DEAD after two attempts (other jobs untouched)."""
    await store.enqueue([new_job(key, kind="doomed", host=host)], now)
    (job,) = await store.claim("w", now, LEASE, 1, kinds=["doomed"])
    assert await store.retry(job.id, "w", now, "500", now)
    (job,) = await store.claim("w", now, LEASE, 1, kinds=["doomed"])
    assert await store.fail(job.id, "w", "410 Gone", now)
    return await stored_job(store, job.id)


async def test_counts_group_by_state_and_host(store: Store) -> None:
    await store.enqueue([new_job("q1"), new_job("q2"), new_job("l", host="")], T0)
    await _kill(store, "d1", "c.example")
    done = await store.claim("w", T0, LEASE, 1, exclude_hosts=[""])
    await complete(store, done[0].id, "w", T0)

    assert await store.counts() == {
        ("queued", "b.example"): 1,
        ("done", "b.example"): 1,
        ("queued", ""): 1,
        ("dead", "c.example"): 1,
    }


async def test_queue_depth_counts_queued_and_dead_jobs_by_kind(store: Store) -> None:
    await store.enqueue([new_job(f"d{i}", kind="deliver") for i in range(3)], T0)
    await store.enqueue([new_job("i1", kind="inbox", host="")], T0)
    await _kill(store, "x1", "c.example")
    (done,) = await store.claim("w", T0, LEASE, 1, kinds=["inbox"])
    assert await complete(store, done.id, "w", T0)  # done jobs are not queue depth

    assert await store.queue_depth() == {("deliver", "queued"): 3, ("doomed", "dead"): 1}


async def test_list_jobs_filters_by_state_and_host_with_limit(store: Store) -> None:
    await store.enqueue([new_job(f"b{i}") for i in range(3)], T0)
    await store.enqueue([new_job("c1", host="c.example")], T0)
    dead = await _kill(store, "d1", "b.example")

    queued = await store.list_jobs(JobState.QUEUED)
    assert sorted(j.dedupe_key for j in queued) == ["b0", "b1", "b2", "c1"]
    assert [j.dedupe_key for j in await store.list_jobs(JobState.QUEUED, "c.example")] == ["c1"]
    assert len(await store.list_jobs(JobState.QUEUED, limit=2)) == 2
    assert [j.id for j in await store.list_jobs(JobState.DEAD)] == [dead.id]
    assert await store.list_jobs(JobState.DONE) == []


async def test_requeue_one_dead_job_resets_attempts_and_is_due_now(store: Store) -> None:
    first = await _kill(store, "d1", "b.example")
    other = await _kill(store, "d2", "b.example")
    assert first.attempts == 2

    assert await store.requeue_dead(T0 + 100, job_id=first.id) == 1
    requeued = await stored_job(store, first.id)
    assert (requeued.state, requeued.attempts, requeued.next_attempt_at) == (
        JobState.QUEUED,
        0,
        T0 + 100,
    )
    assert (await stored_job(store, other.id)).state is JobState.DEAD
    assert [j.id for j in await store.claim("w", T0 + 100, LEASE, 10)] == [first.id]


async def test_requeue_dead_by_host_and_all(store: Store) -> None:
    await _kill(store, "b1", "b.example")
    await _kill(store, "b2", "b.example")
    await _kill(store, "c1", "c.example")
    await store.enqueue([new_job("q1", host="b.example")], T0)

    assert await store.requeue_dead(T0, host="b.example") == 2
    assert await store.counts() == {("queued", "b.example"): 3, ("dead", "c.example"): 1}
    assert await store.requeue_dead(T0) == 1
    assert await store.requeue_dead(T0) == 0
    assert await store.counts() == {("queued", "b.example"): 3, ("queued", "c.example"): 1}


async def test_requeue_dead_leaves_other_states_alone(store: Store) -> None:
    await store.enqueue([new_job("q1")], T0)
    job = await claim_one(store)

    assert await store.requeue_dead(T0, job_id=job.id) == 0
    assert (await stored_job(store, job.id)).lease_owner == "w1"


async def test_drop_queued_for_host_kills_only_that_hosts_queued_jobs(store: Store) -> None:
    await store.enqueue([new_job("b1"), new_job("b2"), new_job("c1", host="c.example")], T0)
    leased = await claim_one(store, owner="w")
    finished = await store.claim("w", T0, LEASE, 1, exclude_hosts=["c.example"])
    await complete(store, finished[0].id, "w", T0)

    assert await store.drop_queued_for_host("b.example", T0 + 1) == 1
    dropped = await stored_job(store, leased.id)
    assert (dropped.state, dropped.last_error) == (JobState.DEAD, "dropped")
    assert not await complete(store, leased.id, "w", T0 + 2)
    assert await store.counts() == {
        ("dead", "b.example"): 1,
        ("done", "b.example"): 1,
        ("queued", "c.example"): 1,
    }


async def test_next_due_at_is_the_earliest_queued_time(store: Store) -> None:
    assert await store.next_due_at() is None
    await store.enqueue([new_job("a", run_at=T0 + 50), new_job("b", run_at=T0 + 20)], T0)
    assert await store.next_due_at() == T0 + 20


async def test_next_due_at_counts_a_lease_as_its_expiry(store: Store) -> None:
    await store.enqueue([new_job("a", run_at=T0), new_job("b", run_at=T0 + 500)], T0)
    await store.claim("w", T0, LEASE, 1)
    assert await store.next_due_at() == T0 + LEASE


async def test_next_due_at_ignores_finished_jobs(store: Store) -> None:
    await _kill(store, "d1", "b.example")
    await store.enqueue([new_job("ok")], T0)
    job = await claim_one(store)
    await complete(store, job.id, "w1", T0)
    assert await store.next_due_at() is None


async def test_prune_done_deletes_only_old_done_jobs_and_frees_their_keys(store: Store) -> None:
    await store.enqueue([new_job("old"), new_job("new"), new_job("queued", run_at=T0 + 9)], T0)
    old = await claim_one(store)
    await complete(store, old.id, "w1", T0 + 1)
    new = await claim_one(store)
    await complete(store, new.id, "w1", T0 + 5)
    dead = await _kill(store, "dead", "b.example")

    assert await store.prune_done(older_than=T0 + 5) == 1
    assert await find_job(store, old.id) is None
    assert not await has_job_keyed(store, "old")
    assert await has_job_keyed(store, "new")
    assert await has_job_keyed(store, "queued")
    assert (await stored_job(store, dead.id)).state is JobState.DEAD
    assert await store.enqueue([new_job("old")], T0 + 6) == 1


async def test_release_all_leases_makes_leased_jobs_claimable_at_once(store: Store) -> None:
    await store.enqueue([new_job("l1"), new_job("l2"), new_job("free")], T0)
    held = await store.claim("dead-process", T0, LEASE, 2)
    assert len(held) == 2
    assert await store.claim("next-run", T0 + 1, LEASE, 10) != []  # only the unleased one
    # The rest stay leased to the dead process until their lease expires...
    assert await store.claim("next-run", T0 + 1, LEASE, 10) == []

    assert await store.release_all_leases(T0 + 1) == 3  # the two, and next-run's own one
    again = await store.claim("next-run", T0 + 1, LEASE, 10)
    assert {job.dedupe_key for job in again} == {"l1", "l2", "free"}
    assert not await complete(store, held[0].id, "dead-process", T0 + 2)  # its lease is gone
