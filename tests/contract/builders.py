"""Record builders with sensible defaults, so each test names only what it is about."""

from __future__ import annotations

from typing import Any

from federation.ports import Store
from federation.records import (
    CachedObject,
    CacheState,
    Direction,
    Follow,
    FollowState,
    Job,
    NewJob,
)
from tests.support.stored import find_job

T0 = 1_700_000_000.0  # a fixed "now"; tests move time explicitly, never sleep
LEASE = 60.0


def new_job(
    key: str,
    *,
    kind: str = "deliver",
    host: str = "b.example",
    run_at: float = 0.0,
    payload: dict[str, Any] | None = None,
) -> NewJob:
    return NewJob(
        kind=kind, dedupe_key=key, payload=payload or {"key": key}, host=host, run_at=run_at
    )


async def claim_one(store: Store, owner: str = "w1", now: float = T0) -> Job:
    """Claim exactly one job (the test arranged for one to be due)."""
    jobs = await store.claim(owner, now, LEASE, 1)
    assert len(jobs) == 1, jobs
    return jobs[0]


def follow(
    actor_host: str,
    *,
    direction: Direction = Direction.FOLLOWER,
    state: FollowState = FollowState.ACCEPTED,
    shared_inbox: str | None = None,
    name: str = "actor",
    now: float = T0,
) -> Follow:
    actor = f"https://{actor_host}/{name}"
    return Follow(
        direction=direction,
        actor=actor,
        domain=actor_host.lower(),
        inbox=f"{actor}/inbox",
        shared_inbox=shared_inbox,
        state=state,
        follow_id=f"{actor}/follows/1",
        created_at=now,
        updated_at=now,
    )


def cached(
    local_id: str,
    *,
    domain: str = "b.example",
    state: CacheState = CacheState.OK,
    fetched_at: float = T0,
) -> CachedObject:
    ok = state is CacheState.OK
    return CachedObject(
        urn=f"urn:block:{domain}:{local_id}",
        url=f"https://{domain}/blocks/{local_id}",
        domain=domain,
        state=state,
        block={"id": local_id, "title": "Ünïcode ✓", "refs": [1, {"a": None}]} if ok else None,
        etag='"v1"' if ok else None,
        last_modified="Tue, 14 Nov 2023 22:13:20 GMT" if ok else None,
        fetched_at=fetched_at,
        expires_at=fetched_at + 7200,
        error=None if ok else "fetch failed: 503",
    )


async def stored_job(store: Store, job_id: int | str) -> Job:
    job = await find_job(store, job_id)
    assert job is not None, job_id
    return job
