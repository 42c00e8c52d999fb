"""Our outgoing activities: stored once, then queued as one delivery job per inbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from federation.delivery.handler import enqueue_fanout
from federation.hosts import host_key
from federation.job_ports import JobQueue
from federation.jobs.kinds import DeliverPayload, new_job
from federation.observability.setup import Telemetry
from federation.ports import ActivityLog, FollowStore
from federation.proofs import ObjectSigner


@dataclass(eq=False, repr=False, kw_only=True)
class Publisher:
    activities: ActivityLog
    queue: JobQueue
    follows: FollowStore
    clock: Callable[[], float]
    wake: Callable[[], None]  # the runner's wake-up: a queued delivery is work for it
    signer: ObjectSigner | None = None
    telemetry: Telemetry = field(default_factory=Telemetry)

    def __post_init__(self) -> None:
        self._metrics = self.telemetry.metrics

    async def _store(self, activity: dict[str, Any]) -> str:
        activity_id = str(activity["id"])
        if self.signer is not None:
            # Signed once when stored: every recipient gets the same bytes with the same proof
            # (FEP-8b32), so a forwarded copy stays verifiable.
            activity = self.signer.sign(activity, self.clock())
        body = json.dumps(activity, separators=(",", ":")).encode()
        await self.activities.put_activity(activity_id, body, self.clock())
        return activity_id

    async def send_to(self, activity: dict[str, Any], inbox: str, *, run_at: float = 0.0) -> int:
        """Deliver one activity to one inbox (follow handshakes, backfill)."""
        activity_id = await self._store(activity)
        job = new_job(
            DeliverPayload(activity_id, inbox),
            host=host_key(inbox),
            run_at=run_at,
        )
        inserted = await self.queue.enqueue([job], self.clock())
        self.wake()
        return inserted

    async def publish(self, activity: dict[str, Any], *, event_at: float | None = None) -> int:
        """Deliver to every accepted follower (shared inboxes collapsed)."""
        activity_id = await self._store(activity)
        inserted = await enqueue_fanout(
            self.queue, self.follows, activity_id, self.clock(), event_at=event_at
        )
        self._metrics.fanout(inserted)
        self.wake()
        return inserted
