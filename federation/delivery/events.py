"""The backend's block events (POST /backend/v1/events): the use case the route calls."""

from __future__ import annotations

from collections.abc import Callable

from federation.backend.contract import BlockEvent
from federation.job_ports import JobQueue
from federation.jobs.kinds import EventPayload, new_job


class BlockEvents:
    def __init__(
        self,
        *,
        queue: JobQueue,
        clock: Callable[[], float],
        wake: Callable[[], None],
        changed: Callable[[str], None],
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._wake = wake  # the runner's wake-up
        self._changed = changed  # whoever keeps renderings of a block (web/rendered.py)

    async def report(self, event: BlockEvent) -> bool:
        """Store the event as a job (idempotent by event_id): False for a repeat. Outbound
        turns it into activities (delivery/outbound.py)."""
        # Before anything else: the next read in this process renders the block and the outbox
        # pages afresh. (Reads check the backend's answer anyway, so other processes need not
        # hear of it.)
        self._changed(event.block_id)
        body = event.model_dump(mode="json")
        job = new_job(EventPayload(event.event_id, body["type"], event.block_id, body["block"]))
        inserted = await self._queue.enqueue([job], self._clock()) == 1
        self._wake()
        return inserted
