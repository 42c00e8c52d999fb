"""Backend notifications grouped: those handed over close together share one POST.

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
from collections.abc import Sequence

from federation.backend.client import BackendClient, BackendRejected
from federation.backend.contract import InboundNotification
from federation.errors import BackendError
from federation.jobs.coalesce import Coalescer
from federation.jobs.kinds import BackendPayload, encode

log = logging.getLogger("federation.backend")

# A refusal that says "not now" rather than "not this": the whole batch waits and is retried.
RETRY_LATER = frozenset({401, 408, 429})
# Below the contract's limit (256): a batch of large blocks stays well under a backend's body cap.
BATCH_ITEMS = 64


class BatchingNotifier:
    def __init__(self, backend: BackendClient, *, max_items: int = BATCH_ITEMS) -> None:
        self._backend = backend
        self._arrays_refused = False
        self._batches: Coalescer[InboundNotification, BackendError | None] = Coalescer(
            self._send, max_items=max_items
        )

    async def notify(self, notice: BackendPayload) -> None:
        """Raises BackendError when the backend did not take this notification."""
        error = await self._batches.submit(InboundNotification.model_validate(encode(notice)))
        if error is not None:
            raise error

    async def _send(self, notes: Sequence[InboundNotification]) -> list[BackendError | None]:
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
