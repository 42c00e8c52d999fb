"""Group commit: items submitted close together are written with one call.

A small SQLite write transaction costs about as much as its COMMIT (the WAL write), whatever
it holds, so writing many items in one transaction is nearly as cheap as writing one. The
first item of a batch schedules the write (at the next turn of the event loop, or after
`max_delay`); items submitted before then join it; a batch that reaches `max_items` is written
at once. Each item has its own future, resolved with its own result, or with the write's
exception for every item of the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Write = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class Coalescer(Generic[T, R]):
    def __init__(self, write: Write[T, R], *, max_items: int, max_delay: float = 0.0) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._write = write
        self._max_items = max_items
        self._max_delay = max_delay
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._timer: asyncio.Handle | None = None
        self._writing: set[asyncio.Task[None]] = set()

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue `item` for the next write; the future resolves when that write is done.
        Must be called from a coroutine on the loop the writes run on."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_items:
            self._start_write()
        elif self._timer is None:
            if self._max_delay > 0:
                self._timer = loop.call_later(self._max_delay, self._start_write)
            else:
                # Not the current task's turn: the other tasks made ready in this tick (e.g.
                # concurrent requests) get to submit first and share the write.
                self._timer = loop.call_soon(self._start_write)
        return future

    async def flush(self) -> None:
        """Write what is pending now and wait for every write under way to finish."""
        self._start_write()
        while self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _start_write(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        task = asyncio.create_task(self._write_batch(batch), name="coalesced-write")
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        futures = [future for _, future in batch]
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"write returned {len(results)} results for {len(batch)}")
        except Exception as exc:
            for future in futures:
                if not future.done():  # its caller may have given up (cancelled) already
                    future.set_exception(exc)
            return
        except BaseException:
            for future in futures:  # the write itself was cancelled: nobody may wait forever
                future.cancel()
            raise
        for future, result in zip(futures, results, strict=True):
            if not future.done():
                future.set_result(result)
