"""DeliveryStats contract (per-host, per-minute delivery counters) and JobAdmin.retry_queued_now,
the admin's "retry now"."""

from __future__ import annotations

from federation.ports import Store
from federation.records import DeliveryCount, JobState
from tests.support.stored import complete

from .builders import LEASE, T0, new_job, stored_job

M0 = int(T0 // 60 * 60)


async def test_counts_add_up_per_host_and_minute(store: Store) -> None:
    await store.add_delivery_counts(
        [
            DeliveryCount(host="b.example", minute=M0, delivered=2, failed=1),
            DeliveryCount(host="c.example", minute=M0, delivered=0, failed=3),
        ]
    )
    await store.add_delivery_counts(
        [
            DeliveryCount(host="b.example", minute=M0, delivered=1, failed=0),
            DeliveryCount(host="b.example", minute=M0 + 60, delivered=5, failed=0),
        ]
    )
    assert await store.delivery_counts(M0) == [
        DeliveryCount(host="b.example", minute=M0, delivered=3, failed=1),
        DeliveryCount(host="c.example", minute=M0, delivered=0, failed=3),
        DeliveryCount(host="b.example", minute=M0 + 60, delivered=5, failed=0),
    ]
    assert await store.delivery_counts(M0 + 60) == [
        DeliveryCount(host="b.example", minute=M0 + 60, delivered=5, failed=0)
    ]
    assert await store.delivery_counts(M0, host="c.example") == [
        DeliveryCount(host="c.example", minute=M0, delivered=0, failed=3)
    ]
    await store.add_delivery_counts([])  # nothing to write is not an error


async def test_prune_drops_only_older_minutes(store: Store) -> None:
    await store.add_delivery_counts(
        [
            DeliveryCount(host="b.example", minute=M0, delivered=1, failed=0),
            DeliveryCount(host="b.example", minute=M0 + 60, delivered=1, failed=0),
        ]
    )
    assert await store.prune_delivery_counts(M0 + 60) == 1
    assert await store.delivery_counts(0) == [
        DeliveryCount(host="b.example", minute=M0 + 60, delivered=1, failed=0)
    ]


async def test_retry_now_makes_a_hosts_waiting_jobs_due_and_keeps_attempts(store: Store) -> None:
    later = T0 + 3600
    await store.enqueue(
        [
            new_job("b1", run_at=later),
            new_job("b2", run_at=later),
            new_job("c1", host="c.example", run_at=later),
        ],
        T0,
    )
    (first,) = await store.claim("w", later, LEASE, 1, kinds=["deliver"])
    assert await store.retry(first.id, "w", later + 600, "HTTP 500", later)
    now = later + 10
    (running,) = await store.claim("w", now, LEASE, 1, kinds=["deliver"])
    assert running.dedupe_key == "b2"  # oldest due first: b2 is running (leased)
    assert await store.retry_queued_now(now, "b.example") == 1  # b1 only
    retried = await stored_job(store, first.id)
    assert retried.next_attempt_at == now
    assert retried.attempts == 1
    assert retried.last_error == "HTTP 500"
    assert retried.state is JobState.QUEUED
    leased = await stored_job(store, running.id)
    assert leased.lease_until > now  # a running job is left alone
    assert leased.next_attempt_at == later


async def test_retry_now_of_one_job(store: Store) -> None:
    await store.enqueue([new_job("b1", run_at=T0 + 600), new_job("b2", run_at=T0 + 600)], T0)
    waiting = await store.list_jobs(JobState.QUEUED, "b.example")
    target = waiting[0]
    assert await store.retry_queued_now(T0, "b.example", job_id=target.id) == 1
    assert (await stored_job(store, target.id)).next_attempt_at == T0
    other = next(j for j in waiting if j.id != target.id)
    assert (await stored_job(store, other.id)).next_attempt_at == T0 + 600
    assert await store.retry_queued_now(T0, "c.example", job_id=target.id) == 0  # other host
    assert await store.retry_queued_now(T0, "b.example", job_id="999999") == 0


async def test_oldest_deliveries_names_each_hosts_oldest_owed_job(store: Store) -> None:
    assert await store.oldest_deliveries() == {}
    await store.enqueue([new_job("b-old"), new_job("c-old", host="c.example")], T0)
    await store.enqueue(
        [
            new_job("b-new"),
            new_job("c-new", host="c.example"),
            new_job("d-done", host="d.example"),
            new_job("e-dead", host="e.example"),
            new_job("event", kind="event", host=""),
        ],
        T0 + 100,
    )
    # Leased (running), waiting for a retry: still owed, still the oldest.
    (b_old,) = await store.claim("w", T0 + 100, LEASE, 1, kinds=["deliver"])
    assert b_old.dedupe_key == "b-old"
    (c_old,) = await store.claim("w", T0 + 100, LEASE, 1, kinds=["deliver"])
    assert await store.retry(c_old.id, "w", T0 + 3600, "HTTP 503", T0 + 100)
    # Delivered or given up: no longer owed.
    d, e = [
        j
        for j in await store.claim("w", T0 + 100, LEASE, 10)
        if j.host in ("d.example", "e.example")
    ]
    assert await complete(store, d.id, "w", T0 + 100)
    assert await store.fail(e.id, "w", "HTTP 410", T0 + 100)
    assert await store.oldest_deliveries() == {"b.example": T0, "c.example": T0}
    assert await complete(store, b_old.id, "w", T0 + 200)
    assert await store.oldest_deliveries() == {"b.example": T0 + 100, "c.example": T0}
