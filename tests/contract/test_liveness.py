"""Liveness contract: heartbeats, and a stopped owner's jobs taken over within seconds."""

from __future__ import annotations

from federation.ports import Store
from federation.records import JobState
from tests.support.stored import complete, find_job

from .builders import LEASE, T0, claim_one, new_job

WINDOW = 3.0  # the takeover window these tests use: an owner silent longer is stale


async def test_beat_returns_the_previous_beat_and_none_at_first(store: Store) -> None:
    assert await store.beat("w1", T0) is None
    assert await store.beat("w1", T0 + 1) == T0
    assert await store.beat("w2", T0 + 1) is None
    assert await store.beat("w1", T0 + 2) == T0 + 1


async def test_a_stale_owners_jobs_are_released_and_claimed_by_another(store: Store) -> None:
    await store.enqueue([new_job("k1"), new_job("k2")], T0)
    await store.beat("dead", T0)
    held = await store.claim("dead", T0, LEASE, 10)
    assert len(held) == 2
    await store.beat("alive", T0 + 4)
    now = T0 + 4  # the lease (60 s) runs long after: only the silence tells

    assert await store.release_stale(now - WINDOW, now) == 2

    taken = await store.claim("alive", now, LEASE, 10)
    assert sorted(j.id for j in taken) == sorted(j.id for j in held)
    # The stalled owner's late outcome changes nothing: the job is another's now.
    assert not await complete(store, held[0].id, "dead", now)
    assert await store.complete_many([(held[1].id, "dead")], now) == 0
    assert await store.renew_leases([j.id for j in held], "dead", now + LEASE, now) == 0
    assert not await store.retry(held[0].id, "dead", now, "late", now)
    assert not await store.fail(held[0].id, "dead", "late", now)
    assert not await store.defer(held[1].id, "dead", now, now)
    assert {(j.lease_owner, j.state) for j in taken} == {("alive", JobState.QUEUED)}


async def test_a_fresh_owners_jobs_are_left_alone(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    await store.beat("w1", T0)
    await claim_one(store, "w1", T0)
    await store.beat("w1", T0 + 2)
    now = T0 + 4

    assert await store.release_stale(now - WINDOW, now) == 0  # beat at T0 + 2: alive

    assert await store.claim("w2", now, LEASE, 10) == []


async def test_jobs_a_stale_owner_wrote_within_the_window_stay_its_own(store: Store) -> None:
    # A beat can stall while the owner still claims and renews: what it wrote since the
    # window began proves it alive for those jobs.
    await store.enqueue([new_job("old"), new_job("new", run_at=T0 + 3)], T0)
    await store.beat("w1", T0)
    old = await claim_one(store, "w1", T0)
    new = await claim_one(store, "w1", T0 + 3)
    now = T0 + 4

    assert await store.release_stale(now - WINDOW, now) == 1

    assert [j.id for j in await store.claim("w2", now, LEASE, 10)] == [old.id]
    assert await complete(store, new.id, "w1", now)


async def test_an_owner_that_never_beat_keeps_its_lease(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    await claim_one(store, "quiet", T0)  # e.g. a process from before heartbeats existed
    now = T0 + 10

    assert await store.release_stale(now - WINDOW, now) == 0

    assert await store.claim("w2", now, LEASE, 10) == []
    assert len(await store.claim("w2", T0 + LEASE, LEASE, 10)) == 1  # the lease still ends


async def test_a_stale_owner_is_forgotten_once_it_holds_nothing(store: Store) -> None:
    await store.enqueue([new_job("k1")], T0)
    await store.beat("w1", T0)
    await claim_one(store, "w1", T0)
    now = T0 + 4

    await store.release_stale(now - WINDOW, now)

    # Judged dead: a beat after the takeover finds no record, and so the owner learns it.
    assert await store.beat("w1", now) is None


async def test_a_stale_owner_still_holding_fresh_work_is_remembered(store: Store) -> None:
    await store.enqueue([new_job("k1", run_at=T0 + 2)], T0)
    await store.beat("w1", T0)
    await claim_one(store, "w1", T0 + 2)
    now = T0 + 4

    await store.release_stale(now - WINDOW, now)

    assert await store.beat("w1", now) == T0


async def test_finished_jobs_of_a_stale_owner_are_not_touched(store: Store) -> None:
    await store.enqueue([new_job("done"), new_job("dead")], T0)
    await store.beat("w1", T0)
    done, dead = await store.claim("w1", T0, LEASE, 10)
    assert await complete(store, done.id, "w1", T0)
    assert await store.fail(dead.id, "w1", "410 Gone", T0)
    now = T0 + 4

    assert await store.release_stale(now - WINDOW, now) == 0

    assert (await find_job(store, done.id)).state is JobState.DONE  # type: ignore[union-attr]
    assert (await find_job(store, dead.id)).state is JobState.DEAD  # type: ignore[union-attr]
