"""The outbox reporter: posts unreported events to the gateway, in order, with backoff.

Events leave strictly one at a time in outbox order, so the gateway never sees an update
before the create it follows. A restart resumes from the first unreported row; the gateway
deduplicates by event_id, so a resend after a lost answer is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from federation.refbackend.gateway import GatewayLink, Outcome
from federation.refbackend.store import BackendStore

log = logging.getLogger("federation.backend.reporter")


@dataclass(frozen=True, slots=True)
class ReporterSettings:
    initial_backoff: float = 1.0
    max_backoff: float = 300.0
    retry_after_cap: float = 600.0
    request_timeout: float = 10.0
    idle_poll: float = 5.0  # look at the outbox this often even without a wake-up
    batch: int = 50


@dataclass(eq=False, repr=False)
class EventReporter:
    store: BackendStore
    link: GatewayLink
    clock: Callable[[], float]
    settings: ReporterSettings

    def __post_init__(self) -> None:
        self._wakeup = asyncio.Event()
        self._backoff = self.settings.initial_backoff

    def wake(self) -> None:
        """Called after a change is committed, so the event leaves without waiting a poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            delay = await self.report_pending()
            if delay is not None:
                await asyncio.sleep(delay)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.idle_poll)

    async def report_pending(self) -> float | None:
        """Post pending events in order; returns how long to wait after a failure, else None."""
        while entries := self.store.pending_events(self.settings.batch):
            for entry in entries:
                result = await self.link.post_event(entry.event)
                if result.outcome is Outcome.RETRY:
                    self.store.note_failure(entry.seq, result.error or "")
                    log.info("event %s not reported: %s", entry.event.event_id, result.error)
                    return self._next_delay(result.retry_after)
                if result.outcome is Outcome.REJECTED:
                    # Retrying the same body cannot help; holding it would wedge every later event.
                    log.warning("gateway rejected event %s: %s", entry.event.event_id, result.error)
                self.store.mark_reported(entry.seq, self.clock(), result.error)
                self._backoff = self.settings.initial_backoff
        return None

    def _next_delay(self, retry_after: float) -> float:
        delay = max(self._backoff, min(retry_after, self.settings.retry_after_cap))
        self._backoff = min(self._backoff * 2, self.settings.max_backoff)
        return delay
