"""Group commit: what is submitted in one turn of the event loop is written with one call."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence

import pytest

from federation.jobs.coalesce import Coalescer


class Recorder:
    """A write that remembers each batch and answers each item with its double."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.error: Exception | None = None

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0)  # a real store (MongoDB) awaits in the middle of a write
        if self.error is not None:
            raise self.error
        return [2 * item for item in items]


async def submit_each(coalescer: Coalescer[int, int], item: int) -> int:
    return await coalescer.submit(item)


async def test_concurrent_submissions_share_one_write_with_their_own_results() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=100)

    results = await asyncio.gather(*(submit_each(coalescer, i) for i in range(5)))

    assert results == [0, 2, 4, 6, 8]
    assert write.batches == [[0, 1, 2, 3, 4]]


async def test_a_submission_after_the_write_started_goes_into_the_next_write() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=100)

    assert await coalescer.submit(1) == 2
    assert await coalescer.submit(2) == 4
    assert write.batches == [[1], [2]]


async def test_a_full_batch_is_written_without_waiting_for_more() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=2)

    results = await asyncio.gather(*(submit_each(coalescer, i) for i in range(5)))

    assert results == [0, 2, 4, 6, 8]
    assert write.batches == [[0, 1], [2, 3], [4]]


async def test_a_failed_write_reaches_every_waiter_of_its_batch() -> None:
    write = Recorder()
    write.error = sqlite3.OperationalError("database or disk is full")
    coalescer = Coalescer(write, max_items=100)

    results = await asyncio.gather(
        *(submit_each(coalescer, i) for i in range(3)), return_exceptions=True
    )

    assert [type(r) for r in results] == [sqlite3.OperationalError] * 3
    write.error = None
    assert await coalescer.submit(7) == 14  # the next batch is not affected


async def test_a_delayed_batch_waits_until_flushed() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=100, max_delay=3600.0)

    first, second = coalescer.submit(1), coalescer.submit(2)
    for _ in range(5):
        await asyncio.sleep(0)
    assert (write.batches, coalescer.pending) == ([], 2)

    await coalescer.flush()
    assert write.batches == [[1, 2]]
    assert (first.result(), second.result()) == (2, 4)


async def test_flush_waits_for_a_write_under_way() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=1)
    future = coalescer.submit(3)  # full: the write starts at once
    await coalescer.flush()
    assert future.result() == 6


async def test_a_caller_that_gives_up_does_not_disturb_the_others() -> None:
    write = Recorder()
    coalescer = Coalescer(write, max_items=100)
    leaving = asyncio.create_task(submit_each(coalescer, 1))
    staying = asyncio.create_task(submit_each(coalescer, 2))
    await asyncio.sleep(0)  # both submitted
    leaving.cancel()

    assert await staying == 4
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert write.batches == [[1, 2]]  # its item was written all the same


def test_max_items_must_allow_a_batch() -> None:
    with pytest.raises(ValueError, match="max_items"):
        Coalescer(Recorder(), max_items=0)
