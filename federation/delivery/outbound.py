"""Block events from the local backend become Create/Update/Delete activities for followers.

Whether a block is federated is stored (ports.Publications): a block made public begins a
generation, and its Create goes out as `{object id}#create-{generation}` (activities/local.py),
the id the outbox lists; leaving (private, embargoed, deleted) withdraws it with a Delete, and
public again begins the next generation, a Create id no peer has seen. Every step runs from a
durable job, and the ids derive from the event id or the generation, so re-running a job after
a crash produces the same activity and the same (deduplicated) delivery jobs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from federation.activities import Block, builders
from federation.activities.block import Visibility
from federation.activities.local import create_id, local_object
from federation.backend.contract import BlockSource
from federation.config import Settings
from federation.discovery import ActorUrls
from federation.job_ports import JobQueue
from federation.jobs.kinds import (
    BackfillPayload,
    EventPayload,
    ReleasePayload,
    new_job,
    payload_of,
)
from federation.jobs.outcomes import Done, JobOutcome
from federation.ports import Publications, Publishing
from federation.proofs import ObjectSigner
from federation.records import Job
from federation.urn import BlockUrn
from federation.visibility import is_released

log = logging.getLogger("federation.outbound")


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@dataclass(eq=False, repr=False, kw_only=True)
class Outbound:
    settings: Settings
    backend: BlockSource
    queue: JobQueue
    publications: Publications
    publisher: Publishing
    clock: Callable[[], float]
    signer: ObjectSigner | None = None

    def __post_init__(self) -> None:
        self._actor = ActorUrls(self.settings.base_url).actor

    def _activity_id(self, seed: str) -> str:
        digest = hashlib.sha256(seed.encode()).hexdigest()[:32]
        return f"{self.settings.base_url}/activities/{digest}"

    def _object(self, block: Block) -> dict[str, Any]:
        # Signed as GET /blocks/{id} serves it: followers keep a copy any reader can check.
        return local_object(block, self.settings, self.signer)

    def _urls(self, block_id: str) -> tuple[str, str]:
        urn = BlockUrn(self.settings.domain, block_id)
        return urn.to_url(self.settings.scheme), str(urn)

    async def handle_event(self, job: Job) -> JobOutcome:
        """JobKind.EVENT: a block created, updated or deleted in the local backend."""
        event = payload_of(job, EventPayload)
        block_id = event.block_id
        seed = f"event:{event.event_id}"
        # The job was written when the backend reported the event: the lag starts there.
        reported = job.created_at
        if event.type == "deleted":
            await self._withdraw(block_id, seed, reported)
            return Done()
        block = await self.backend.get_block(block_id)
        if block is None:  # deleted since: its own delete event does the work
            return Done()
        await self._publish_state(block, seed, reported, created=event.type == "created")
        return Done()

    async def _publish_state(
        self, block: Block, seed: str, reported: float, *, created: bool
    ) -> None:
        if is_released(block, self.clock()):
            await self._publish(block, seed, reported, created=created)
            return
        if block.visibility is Visibility.EMBARGOED and block.embargo_until is not None:
            await self._schedule_release(block.id, _epoch(block.embargo_until))
        await self._withdraw(block.id, seed, reported)

    async def _publish(self, block: Block, seed: str, event_at: float, *, created: bool) -> None:
        """A Create when the block is new or this step made it public (again); else an Update."""
        publication = await self.publications.publish_block(block.id, seed, self.clock())
        obj = self._object(block)
        if created or publication.started_by == seed:
            activity_id = create_id(obj["id"], publication.generation)
            activity = builders.create(obj, self._actor, activity_id)
        else:
            activity = builders.update(obj, self._actor, self._activity_id(seed))
        await self.publisher.publish(activity, event_at=event_at)

    async def _withdraw(self, block_id: str, seed: str, reported: float) -> None:
        # Public once, withdrawn now: followers must drop their copy. A block that was never
        # public gets no Delete, so not even its id leaves the instance.
        if await self.publications.withdraw_block(block_id, self.clock()):
            await self._send_delete(block_id, seed, reported)

    async def _send_delete(self, block_id: str, seed: str, reported: float) -> None:
        url, urn = self._urls(block_id)
        await self.publisher.publish(
            builders.delete(url, urn, self._actor, self._activity_id(seed + ":delete")),
            event_at=reported,
        )

    async def _schedule_release(self, block_id: str, at: float) -> None:
        job = new_job(ReleasePayload(block_id, at), run_at=at)
        await self.queue.enqueue([job], self.clock())

    async def handle_release(self, job: Job) -> JobOutcome:
        """JobKind.RELEASE: an embargo ended; publish the block if it is now released."""
        release = payload_of(job, ReleasePayload)
        block_id = release.block_id
        block = await self.backend.get_block(block_id)
        if block is None:
            return Done()
        if block.visibility is Visibility.EMBARGOED and is_released(block, self.clock()):
            seed = f"release:{block_id}:{release.at}"
            # The block became public when its embargo ended: the lag is measured from there.
            await self._publish(block, seed, release.at, created=True)
        return Done()

    async def handle_backfill(self, job: Job) -> JobOutcome:
        """JobKind.BACKFILL: one page of public blocks to a new follower, then the next."""
        p = payload_of(job, BackfillPayload)
        size = self.settings.delivery.backfill_page_size
        page = await self.backend.list_federated(p.cursor, size)
        now = self.clock()
        for block in page.items:
            if not is_released(block, now):
                continue
            seed = f"backfill:{p.follow_id}:{block.id}:{block.updated_at}"
            # Recorded, so that a withdrawal owes this follower a Delete; the Create keeps an id
            # of this follow's own: a follower that follows again may have seen (and dropped)
            # the fan-out's, and must not drop this copy as a duplicate.
            await self.publications.publish_block(block.id, seed, now)
            activity = builders.create(self._object(block), self._actor, self._activity_id(seed))
            await self.publisher.send_to(activity, p.inbox)
        if page.next_cursor is not None:
            nxt = new_job(
                replace(p, cursor=page.next_cursor),
                run_at=now + self.settings.delivery.backfill_pause,
            )
            await self.queue.enqueue([nxt], now)
        return Done()
