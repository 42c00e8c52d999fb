"""The one owner of telling the backend what changed (POST /api/v1/inbound): the notifications'
ids and shapes, direct delivery in batches, the durable fallback through the job queue, and the
handler of the queued ones (JobKind.BACKEND).

The inbox processes activities concurrently; each hands its remote-block change to the backend
at once (the inbox job is the durable record). One POST per activity cost about a tenth of the
whole pipeline, so notifications submitted in the same turn of the event loop go as one JSON
array (the contract's batch form), the way the inbox groups its commits. A lone notification is
posted as an object, as ever. A backend that refuses the array (one that takes single
notifications only, or one bad item) gets each notification alone, in order, each with its own
verdict; when every one of them is then taken, the backend is not sent arrays again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from federation.backend.client import BackendRejected
from federation.backend.contract import (
    FollowChange,
    InboundNotification,
    NotificationType,
    RemoteBlock,
)
from federation.errors import BackendError
from federation.job_ports import JobQueue
from federation.jobs.coalesce import Coalescer
from federation.jobs.kinds import new_job, payload_of
from federation.jobs.outcomes import Done, JobOutcome
from federation.records import Follow, Job, NewJob

log = logging.getLogger("federation.backend")

# A refusal that says "not now" rather than "not this": the whole batch waits and is retried.
RETRY_LATER = frozenset({401, 408, 429})
# Below the contract's limit (256): a batch of large blocks stays well under a backend's body cap.
BATCH_ITEMS = 64


class InboundApi(Protocol):
    """The backend's POST /api/v1/inbound (BackendClient provides it)."""

    async def notify(self, notification: InboundNotification, /) -> None: ...

    async def notify_many(self, notifications: Sequence[InboundNotification], /) -> None: ...


class Notifying(Protocol):
    """What the features that change remote blocks use (BackendNotifications provides it)."""

    async def send(self, note: InboundNotification, /) -> None: ...


def block_upserted(activity_id: str, block: RemoteBlock, *, limited: bool) -> InboundNotification:
    return InboundNotification(
        id=f"{activity_id}#{NotificationType.REMOTE_BLOCK_UPSERT.value}",
        type=NotificationType.REMOTE_BLOCK_UPSERT,
        urn=block.urn,
        block=block,
        limited=limited,
    )


def block_deleted(activity_id: str, urn: str) -> InboundNotification:
    return InboundNotification(
        id=f"{activity_id}#{NotificationType.REMOTE_BLOCK_DELETE.value}",
        type=NotificationType.REMOTE_BLOCK_DELETE,
        urn=urn,
    )


def follow_changed(relation: Follow) -> InboundNotification:
    return InboundNotification(
        id=(
            f"follow:{relation.direction.value}:{relation.actor}:{relation.state.value}:"
            f"{relation.updated_at}"
        ),
        type=NotificationType.FOLLOW_CHANGED,
        follow=FollowChange(
            direction=relation.direction,
            actor=relation.actor,
            domain=relation.domain,
            state=relation.state,
        ),
    )


def queued(note: InboundNotification) -> NewJob:
    """The durable job that hands `note` to the backend, retried until it is taken."""
    return new_job(note)


class BackendNotifications:
    """Direct delivery in batches, with the job queue as the fallback."""

    def __init__(self, *, backend: InboundApi, queue: JobQueue, clock: Callable[[], float]) -> None:
        self._batches = BatchingPoster(backend)
        self._queue = queue
        self._clock = clock

    async def send(self, note: InboundNotification) -> None:
        """Straight to the backend: the caller's job is itself the durable record, and the
        common case then costs no extra job (enqueue, claim, settle). When the backend is down
        the notification goes to the durable queue, which retries it on its own schedule."""
        try:
            await self._batches.post(note)
            return
        except BackendError as exc:
            log.info("backend unavailable (%s): queueing %s", exc, note.id)
        await self._queue.enqueue([queued(note)], self._clock())

    async def handle(self, job: Job) -> JobOutcome:
        """JobKind.BACKEND: a notification the backend could not take at once, retried."""
        await self._batches.post(payload_of(job, InboundNotification))
        return Done()


class BatchingPoster:
    """Notifications posted close together share one POST (see the module's docstring)."""

    def __init__(self, backend: InboundApi, *, max_items: int = BATCH_ITEMS) -> None:
        self._backend = backend
        self._arrays_refused = False
        self._batches: Coalescer[InboundNotification, BackendError | None] = Coalescer(
            self._post, max_items=max_items
        )

    async def post(self, note: InboundNotification) -> None:
        """Raises BackendError when the backend did not take this notification."""
        error = await self._batches.submit(note)
        if error is not None:
            raise error

    async def _post(self, notes: Sequence[InboundNotification]) -> list[BackendError | None]:
        if len(notes) > 1 and not self._arrays_refused:
            try:
                await self._backend.notify_many(notes)
                return [None] * len(notes)
            except BackendRejected as exc:
                if exc.status in RETRY_LATER:
                    return [exc] * len(notes)
                log.info("backend refused %d notifications in one POST (%s)", len(notes), exc)
                verdicts = await self._one_by_one(notes)
                # Too large says nothing about arrays; any other refusal of an array whose
                # items are all taken alone does.
                self._arrays_refused = exc.status != 413 and all(v is None for v in verdicts)
                return verdicts
            except BackendError as exc:
                return [exc] * len(notes)
        return await self._one_by_one(notes)

    async def _one_by_one(self, notes: Sequence[InboundNotification]) -> list[BackendError | None]:
        verdicts: list[BackendError | None] = []
        for note in notes:
            try:
                await self._backend.notify(note)
                verdicts.append(None)
            except BackendError as exc:
                verdicts.append(exc)
        return verdicts
