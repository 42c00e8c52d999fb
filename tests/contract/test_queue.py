"""JobQueue contract: enqueue, claim, leases, and finishing a job."""

from __future__ import annotations

import asyncio

import pytest

from federation.ports import Store
from federation.records import JobState
from tests.support.stored import complete, find_job, has_job_keyed

from .builders import LEASE, T0, claim_one, new_job, stored_job


async def test_enqueue_persists_queued_jobs_due_now(store: Store) -> None:
    payload = {"activity": "https://a.example/act/1", "nested": {"ü": [1, 2.5, None, True]}}
    inserted = await store.enqueue([new_job("k1", kind="fanout", payload=payload)], T0)

    job = await claim_one(store)
    assert inserted == 1
    assert (job.kind, job.dedupe_key, job.payload, job.host) == (
        "fanout",
        "k1",
        payload,
        "b.example",
    )
    assert (job.state, job.attempts, job.next_attempt_at) == (JobState.QUEUED, 0, T0)
    assert job.created_at == T0
    assert job.last_error is None


async def test_enqueue_nothing_inserts_nothing(store: Store) -> None:
    assert await store.enqueue([], T0) == 0
    assert await store.counts() == {}


async def test_enqueue_skips_a_key_already_queued(store: Store) -> None:
    assert await store.enqueue([new_job("k1")], T0) == 1
    assert await store.enqueue([new_job("k1"), new_job("k2")], T0) == 1
    assert await store.enqueue([new_job("k3"), new_job("k3")], T0) == 1
    assert await store.counts() == {("queued", "b.example"): 3}


@pytest.mark.parametrize("finish", ["complete", "fail"])
async def test_enqueue_skips_the_key_of_a_finished_job(store: Store, finish: str) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)
    if finish == "complete":
        assert await complete(store, job.id, "w1", T0)
    else:
        assert await store.fail(job.id, "w1", "410 Gone", T0)

    assert await store.enqueue([new_job("k1")], T0 + 1) == 0
    assert await store.claim("w1", T0 + 1, LEASE, 10) == []


async def test_an_enqueued_job_is_stored_under_its_key(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    assert await has_job_keyed(store, "k1")
    assert not await has_job_keyed(store, "k2")


async def test_claim_waits_for_run_at(store: Store) -> None:
    await store.enqueue([new_job("later", run_at=T0 + 60)], T0)

    assert await store.claim("w1", T0 + 59, LEASE, 10) == []
    job = await claim_one(store, now=T0 + 60)
    assert job.dedupe_key == "later"


async def test_claim_leases_the_job_to_its_owner(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="w1", now=T0 + 5)

    assert (job.lease_owner, job.lease_until) == ("w1", T0 + 5 + LEASE)
    stored = await stored_job(store, job.id)
    assert (stored.lease_owner, stored.lease_until) == ("w1", T0 + 5 + LEASE)


async def test_a_leased_job_is_claimable_again_only_after_its_lease_expires(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    first = await claim_one(store, owner="dead-worker")

    assert await store.claim("w2", T0 + LEASE - 1, LEASE, 10) == []
    again = await claim_one(store, owner="w2", now=T0 + LEASE)
    assert again.id == first.id
    assert again.lease_owner == "w2"


async def test_only_the_lease_holder_can_finish_a_job(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="w1")

    assert not await complete(store, job.id, "w2", T0 + 1)
    assert not await store.retry(job.id, "w2", T0 + 100, "boom", T0 + 1)
    assert not await store.fail(job.id, "w2", "boom", T0 + 1)
    stored = await stored_job(store, job.id)
    assert (stored.state, stored.attempts, stored.lease_owner) == (JobState.QUEUED, 0, "w1")


async def test_a_worker_whose_lease_was_taken_over_cannot_finish(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="slow")
    await claim_one(store, owner="w2", now=T0 + LEASE + 1)

    assert not await complete(store, job.id, "slow", T0 + LEASE + 2)
    assert not await store.retry(job.id, "slow", T0 + 500, "late", T0 + LEASE + 2)
    assert not await store.fail(job.id, "slow", "late", T0 + LEASE + 2)
    assert await complete(store, job.id, "w2", T0 + LEASE + 3)


async def test_claim_takes_the_oldest_due_jobs_first_up_to_limit(store: Store) -> None:
    await store.enqueue(
        [new_job("b", run_at=T0 - 1), new_job("c", run_at=T0), new_job("a", run_at=T0 - 3)], T0
    )
    jobs = await store.claim("w1", T0, LEASE, 2)
    assert [j.dedupe_key for j in jobs] == ["a", "b"]
    assert [j.dedupe_key for j in await store.claim("w2", T0, LEASE, 2)] == ["c"]


async def test_claim_with_zero_limit_takes_nothing(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    assert await store.claim("w1", T0, LEASE, 0) == []


async def test_claim_filters_by_kind(store: Store) -> None:
    await store.enqueue([new_job("d", kind="deliver"), new_job("f", kind="fanout")], T0)

    assert await store.claim("w1", T0, LEASE, 10, kinds=[]) == []
    assert [j.dedupe_key for j in await store.claim("w1", T0, LEASE, 10, kinds=["fanout"])] == ["f"]
    assert [j.dedupe_key for j in await store.claim("w1", T0, LEASE, 10)] == ["d"]


async def test_claim_skips_excluded_hosts(store: Store) -> None:
    await store.enqueue(
        [new_job("b", host="b.example"), new_job("c", host="c.example"), new_job("l", host="")],
        T0,
    )
    jobs = await store.claim("w1", T0, LEASE, 10, exclude_hosts=["b.example", "x.example"])
    assert sorted(j.dedupe_key for j in jobs) == ["c", "l"]


async def test_complete_marks_done_counting_the_attempt(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)

    assert await complete(store, job.id, "w1", T0 + 1)
    done = await stored_job(store, job.id)
    assert (done.state, done.attempts, done.updated_at) == (JobState.DONE, 1, T0 + 1)
    assert await store.claim("w2", T0 + 10 * LEASE, LEASE, 10) == []
    assert not await complete(store, job.id, "w1", T0 + 2)


async def test_retry_counts_the_attempt_and_reschedules(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)

    assert await store.retry(job.id, "w1", T0 + 30, "503 Service Unavailable", T0 + 1)
    retried = await stored_job(store, job.id)
    assert (retried.state, retried.attempts) == (JobState.QUEUED, 1)
    assert (retried.next_attempt_at, retried.last_error) == (T0 + 30, "503 Service Unavailable")
    assert await store.claim("w2", T0 + 29, LEASE, 10) == []

    again = await claim_one(store, owner="w2", now=T0 + 30)
    assert await store.retry(again.id, "w2", T0 + 90, "timeout", T0 + 31)
    assert (await stored_job(store, job.id)).attempts == 2


async def test_fail_marks_dead_with_the_error(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)

    assert await store.fail(job.id, "w1", "410 Gone", T0 + 1)
    dead = await stored_job(store, job.id)
    assert (dead.state, dead.attempts, dead.last_error) == (JobState.DEAD, 1, "410 Gone")
    assert await store.claim("w2", T0 + 10 * LEASE, LEASE, 10) == []


async def test_defer_releases_the_lease_without_counting_an_attempt(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)
    assert await store.retry(job.id, "w1", T0 + 10, "503", T0 + 1)
    job = await claim_one(store, now=T0 + 10)

    assert await store.defer(job.id, "w1", T0 + 40, T0 + 11)
    deferred = await stored_job(store, job.id)
    assert (deferred.state, deferred.attempts, deferred.last_error) == (JobState.QUEUED, 1, "503")
    assert (deferred.lease_owner, deferred.next_attempt_at) == (None, T0 + 40)
    assert deferred.updated_at == T0 + 11
    assert not await complete(store, job.id, "w1", T0 + 12)  # the lease is gone


async def test_a_deferred_job_is_claimable_by_anyone_at_its_new_time(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="w1")
    assert await store.defer(job.id, "w1", T0 + 5, T0)

    # Long before the lease would have expired: the deferral, not the lease, decides.
    assert await store.claim("w2", T0 + 4, LEASE, 10) == []
    assert await store.next_due_at() == T0 + 5
    again = await claim_one(store, owner="w2", now=T0 + 5)
    assert (again.id, again.lease_owner, again.attempts) == (job.id, "w2", 0)


async def test_defer_to_now_returns_the_job_at_once(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="w1")
    assert await store.defer(job.id, "w1", T0 + 1, T0 + 1)
    assert (await claim_one(store, owner="w2", now=T0 + 1)).id == job.id


async def test_only_the_lease_holder_can_defer_a_job(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="slow")

    assert not await store.defer(job.id, "w2", T0 + 5, T0 + 1)  # never held it
    await claim_one(store, owner="w2", now=T0 + LEASE + 1)
    assert not await store.defer(job.id, "slow", T0 + 500, T0 + LEASE + 2)  # taken over
    stored = await stored_job(store, job.id)
    assert (stored.lease_owner, stored.next_attempt_at) == ("w2", T0)
    assert await complete(store, job.id, "w2", T0 + LEASE + 3)
    assert not await store.defer(job.id, "w2", T0 + 500, T0 + LEASE + 4)  # done: stays done
    assert (await stored_job(store, job.id)).state is JobState.DONE


async def test_unknown_job_ids_are_not_found(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store)
    await complete(store, job.id, "w1", T0)
    await store.prune_done(T0 + 1)

    assert await find_job(store, job.id) is None
    assert not await complete(store, job.id, "w1", T0 + 2)
    assert not await store.retry(job.id, "w1", T0 + 9, "x", T0 + 2)
    assert not await store.fail(job.id, "w1", "x", T0 + 2)
    assert not await store.defer(job.id, "w1", T0 + 9, T0 + 2)


async def test_concurrent_claimers_never_share_a_job(store: Store) -> None:
    await store.enqueue([new_job(f"k{i}", host=f"h{i % 7}.example") for i in range(200)], T0)

    batches = await asyncio.gather(*(store.claim(f"worker-{n}", T0, LEASE, 15) for n in range(20)))
    ids = [job.id for batch in batches for job in batch]
    assert len(ids) == len(set(ids)) == 200
    for n, batch in enumerate(batches):
        assert all(job.lease_owner == f"worker-{n}" for job in batch)


async def test_enqueue_each_tells_inserted_from_known_keys(store: Store) -> None:
    assert await store.enqueue([new_job("old")], T0) == 1

    inserted = await store.enqueue_each(
        [new_job("a"), new_job("old"), new_job("b"), new_job("a"), new_job("c")], T0 + 1
    )

    assert inserted == [True, False, True, False, True]
    jobs = await store.claim("w1", T0 + 1, LEASE, 10)
    assert sorted(j.dedupe_key for j in jobs) == ["a", "b", "c", "old"]
    first_a = next(j for j in jobs if j.dedupe_key == "a")
    assert first_a.payload == {"key": "a"}
    assert await store.counts() == {("queued", "b.example"): 4}


async def test_enqueue_each_of_nothing_inserts_nothing(store: Store) -> None:
    assert await store.enqueue_each([], T0) == []
    assert await store.counts() == {}


async def test_enqueue_each_skips_the_key_of_a_finished_job(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    assert await complete(store, (await claim_one(store)).id, "w1", T0)

    assert await store.enqueue_each([new_job("k1"), new_job("k2")], T0 + 1) == [False, True]


async def test_complete_many_completes_only_jobs_their_owner_still_holds(store: Store) -> None:
    await store.enqueue([new_job("lost")], T0)
    lost = await claim_one(store, owner="w1")
    later = T0 + LEASE + 1
    assert (await claim_one(store, owner="w3", now=later)).id == lost.id  # lease taken over
    await store.enqueue([new_job("a"), new_job("b"), new_job("c")], later)
    mine = await store.claim("w1", later, LEASE, 2)
    theirs = await claim_one(store, owner="w2", now=later)

    items = [(j.id, "w1") for j in (*mine, theirs, lost)] + [("not-a-number", "w1"), (999, "w1")]
    assert await store.complete_many(items, later + 1) == 2

    for job in mine:
        done = await stored_job(store, job.id)
        assert (done.state, done.attempts, done.lease_owner) == (JobState.DONE, 1, None)
        assert done.updated_at == later + 1
    for job, owner in ((theirs, "w2"), (lost, "w3")):
        held = await stored_job(store, job.id)
        assert (held.state, held.attempts, held.lease_owner) == (JobState.QUEUED, 0, owner)
    assert await store.claim("w9", later + 10 * LEASE, LEASE, 10) != []  # not done: still due


async def test_complete_many_skips_finished_and_repeated_jobs(store: Store) -> None:
    await store.enqueue([new_job("k1"), new_job("k2"), new_job("k3")], T0)
    first, second, third = await store.claim("w1", T0, LEASE, 3)
    assert await store.fail(third.id, "w1", "410 Gone", T0)

    items = [(first.id, "w1"), (first.id, "w1"), (second.id, "w1"), (third.id, "w1")]
    assert await store.complete_many(items, T0 + 1) == 2
    assert (await stored_job(store, first.id)).attempts == 1  # counted once
    assert (await stored_job(store, third.id)).state is JobState.DEAD
    assert await store.complete_many([], T0 + 2) == 0


async def test_a_renewed_lease_keeps_the_job_from_other_claimers(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    job = await claim_one(store, owner="w1")

    assert await store.renew_leases([job.id], "w1", T0 + LEASE + 30, T0 + LEASE - 1) == 1
    assert await store.claim("w2", T0 + LEASE + 29, LEASE, 10) == []
    stored = await stored_job(store, job.id)
    assert (stored.lease_owner, stored.lease_until) == ("w1", T0 + LEASE + 30)
    assert await complete(store, job.id, "w1", T0 + LEASE + 29)


async def test_renewing_does_not_count_an_attempt_or_change_the_job(store: Store) -> None:
    await store.enqueue([new_job("k1", run_at=T0)], T0)
    job = await claim_one(store, owner="w1")
    assert await store.renew_leases([job.id], "w1", T0 + 2 * LEASE, T0 + 1) == 1

    stored = await stored_job(store, job.id)
    assert (stored.state, stored.attempts, stored.next_attempt_at, stored.last_error) == (
        JobState.QUEUED,
        0,
        T0,
        None,
    )


async def test_only_the_lease_holder_renews_and_only_while_it_holds_the_job(
    store: Store,
) -> None:
    await store.enqueue([new_job(k) for k in ("taken", "mine", "done", "retried")], T0)
    jobs = {j.dedupe_key: j for j in await store.claim("w1", T0, LEASE, 4)}
    assert await complete(store, jobs["done"].id, "w1", T0 + 1)
    assert await store.retry(jobs["retried"].id, "w1", T0 + 1000, "later", T0 + 1)
    # "taken" (the oldest) outlived its lease and another worker claimed it; "mine" expired
    # but nobody claimed it: still ours.
    (taken,) = await store.claim("w2", T0 + LEASE, LEASE, 1)
    assert taken.dedupe_key == "taken"
    mine = jobs["mine"]
    ids = [j.id for j in jobs.values()]

    assert await store.renew_leases([*ids, "no-such-job", 10**9], "w1", T0 + 500, T0 + 70) == 1
    assert (await stored_job(store, mine.id)).lease_until == T0 + 500
    assert (await stored_job(store, taken.id)).lease_owner == "w2"
    assert (await stored_job(store, taken.id)).lease_until == T0 + 2 * LEASE
    assert (await stored_job(store, jobs["done"].id)).state is JobState.DONE
    assert (await stored_job(store, jobs["retried"].id)).lease_owner is None
    assert await store.renew_leases([], "w1", T0 + 500, T0 + 70) == 0
