"""Finished jobs are forgotten only after the dedupe window, so replays inside it stay refused."""

from __future__ import annotations

from pathlib import Path

from federation.jobs.maintenance import DEDUPE_RETENTION, Maintenance
from federation.records import NewJob
from federation.storage import SqliteStore
from tests.support.stored import complete, has_job_keyed


async def test_prunes_only_jobs_finished_before_the_window(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.sqlite3")
    await store.open()
    now = [1_000_000.0]
    try:
        await store.enqueue(
            [
                NewJob(kind="inbox", dedupe_key="inbox:old", payload={}),
                NewJob(kind="inbox", dedupe_key="inbox:new", payload={}),
            ],
            now[0],
        )
        (old,) = await store.claim("w", now[0], 60, 1)
        await complete(store, old.id, "w", now[0])
        now[0] += DEDUPE_RETENTION - 10
        (new,) = await store.claim("w", now[0], 60, 1)
        await complete(store, new.id, "w", now[0])
        now[0] += 20  # the first is past the window, the second is not
        assert await Maintenance(queue=store, clock=lambda: now[0]).run_once() == 1
        assert not await has_job_keyed(store, "inbox:old")
        assert await has_job_keyed(store, "inbox:new")
        # Within the window a replay is still a duplicate.
        assert (
            await store.enqueue([NewJob(kind="inbox", dedupe_key="inbox:new", payload={})], now[0])
            == 0
        )
    finally:
        await store.close()
