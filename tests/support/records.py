"""Records with the defaults most tests share (the records are keyword-only and long), so a
test names only the fields it is about."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from federation.records import Direction, Follow, FollowState, Job, JobState


def accepted_follow(
    actor: str,
    *,
    direction: Direction = Direction.FOLLOWER,
    inbox: str | None = None,
    shared_inbox: str | None = None,
    follow_id: str | None = None,
    at: float | None = None,
) -> Follow:
    """An accepted relation with `actor`, a follower of ours unless `direction` says otherwise:
    its inbox `<actor>/inbox` and its Follow's id `<actor>#follow` unless given, its domain
    the host (and port) of the actor's URL, created and updated `at` (now by default)."""
    now = time.time() if at is None else at
    return Follow(
        direction=direction,
        actor=actor,
        domain=urlsplit(actor).netloc,
        inbox=inbox or f"{actor}/inbox",
        shared_inbox=shared_inbox,
        state=FollowState.ACCEPTED,
        follow_id=follow_id or f"{actor}#follow",
        created_at=now,
        updated_at=now,
    )


def queued_job(
    kind: str = "deliver",
    *,
    payload: dict[str, Any] | None = None,
    host: str = "",
    attempts: int = 0,
    dedupe_key: str = "k",
    at: float = 0.0,
) -> Job:
    """Job 1 as a worker holds it or an adapter reads it back: queued, no lease, no error,
    created, updated and due `at`."""
    return Job(
        id=1,
        kind=kind,
        dedupe_key=dedupe_key,
        payload={} if payload is None else payload,
        host=host,
        state=JobState.QUEUED,
        attempts=attempts,
        next_attempt_at=at,
        lease_owner=None,
        lease_until=0.0,
        last_error=None,
        created_at=at,
        updated_at=at,
    )
