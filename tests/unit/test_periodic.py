"""The one background loop every periodic chore runs in."""

from __future__ import annotations

import asyncio
import logging

import pytest

from federation.jobs.periodic import Periodic


async def test_a_failed_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def chore() -> None:
        rounds.append(len(rounds) + 1)
        if len(rounds) == 1:
            raise RuntimeError("the store is away")
        if len(rounds) == 3:
            third.set()

    loop = Periodic("chore", chore, 0.01, at_start=True, failure="the chore failed")
    with caplog.at_level(logging.ERROR, logger="federation.periodic"):
        loop.start()
        await asyncio.wait_for(third.wait(), 5)
        await loop.stop()
    assert rounds[:3] == [1, 2, 3]
    assert [r.getMessage() for r in caplog.records] == ["the chore failed"]
    assert caplog.records[0].exc_info is not None


async def test_the_first_round_waits_one_interval_unless_asked_to_run_at_start() -> None:
    ran: list[str] = []
    early_ran = asyncio.Event()

    async def late_chore() -> None:
        ran.append("late")

    async def early_chore() -> None:
        ran.append("early")
        early_ran.set()

    late = Periodic("late", late_chore, 3600.0)
    late.start()
    early = Periodic("early", early_chore, 3600.0, at_start=True)
    early.start()
    await asyncio.wait_for(early_ran.wait(), 5)
    await late.stop()
    await early.stop()
    assert ran == ["early"]  # the late one started first but waits its hour


async def test_starting_twice_runs_one_loop_and_stopping_twice_is_harmless() -> None:
    loops: set[asyncio.Task[object] | None] = set()
    rounds = 0
    three = asyncio.Event()

    async def chore() -> None:
        nonlocal rounds
        loops.add(asyncio.current_task())
        rounds += 1
        if rounds == 3:
            three.set()

    loop = Periodic("chore", chore, 0.01, at_start=True)
    loop.start()
    loop.start()
    await asyncio.wait_for(three.wait(), 5)
    await loop.stop()
    await loop.stop()
    assert len(loops) == 1
    assert all(task is not None and task.done() for task in loops)
