"""What only the SQLite adapter promises: schema set-up, durability, locking across
connections, and clear errors for a bad path. The port behaviour is in tests/contract/."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from federation.errors import ConfigError
from federation.records import Direction, NewJob
from federation.storage import SqliteStore
from federation.storage.sqlite.queue import _claim_sql
from federation.storage.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migrate

T0 = 1_700_000_000.0


def _jobs(n: int) -> list[NewJob]:
    return [
        NewJob(kind="deliver", dedupe_key=f"k{i}", payload={"i": i}, host=f"h{i % 5}")
        for i in range(n)
    ]


def _pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


async def test_open_creates_folder_and_schema_on_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "gateway.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.open()  # idempotent
    await store.close()

    assert SCHEMA_VERSION >= 1
    assert _pragma(path, "user_version") == SCHEMA_VERSION
    assert _pragma(path, "journal_mode") == "wal"


@pytest.mark.parametrize(("mode", "level"), [("NORMAL", 1), ("full", 2)])
async def test_synchronous_mode_is_applied(tmp_path: Path, mode: str, level: int) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", synchronous=mode)
    await store.open()
    try:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == level
        assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        await store.close()


def test_unknown_synchronous_mode_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OFF"):
        SqliteStore(tmp_path / "s.sqlite3", synchronous="OFF")


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    first = SqliteStore(path)
    await first.open()
    await first.enqueue(_jobs(3), T0)
    await first.set_setting("mode", "approval")
    await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.get_setting("mode") == "approval"
        assert await second.counts() == {
            ("queued", "h0"): 1,
            ("queued", "h1"): 1,
            ("queued", "h2"): 1,
        }
        assert _pragma(path, "user_version") == SCHEMA_VERSION
    finally:
        await second.close()


async def test_memory_database_works() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    assert await store.enqueue(_jobs(2), T0) == 2
    await store.close()


async def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.sqlite3")
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_cached("urn:block:b.example:1")


def _claim_all(path: Path, owner: str, start: threading.Barrier) -> list[int | str]:
    async def run() -> list[int | str]:
        store = SqliteStore(path)
        await store.open()
        start.wait()
        claimed: list[int | str] = []
        try:
            while batch := await store.claim(owner, T0, 60.0, 7):
                claimed.extend(job.id for job in batch)
                # "Work" between claims; SQLite's busy wait is not fair, so without it one
                # thread could take the whole queue before the other gets the lock.
                await asyncio.sleep(0.001)
        finally:
            await store.close()
        return claimed

    return asyncio.run(run())


async def test_two_stores_on_one_file_never_claim_the_same_job(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    seed = SqliteStore(path)
    await seed.open()
    await seed.enqueue(_jobs(2000), T0)
    await seed.close()

    start = threading.Barrier(2)
    results: dict[str, list[int | str]] = {}

    def worker(owner: str) -> None:
        results[owner] = _claim_all(path, owner, start)

    threads = [threading.Thread(target=worker, args=(o,)) for o in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    claimed = results["a"] + results["b"]
    assert len(claimed) == len(set(claimed)) == 2000
    assert results["a"] and results["b"]  # both really competed


def test_claim_reads_only_the_claim_index() -> None:
    """Claim stays fast with 100k jobs queued: the due jobs come from a covering index, in
    order, with no sort step (a sort would read every job sharing one timestamp)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    params = ["owner", T0, T0, T0, T0, "deliver", "x.example", 10]
    sql = "EXPLAIN QUERY PLAN " + _claim_sql(["deliver"], ["x.example"])
    plan = [str(row[3]) for row in conn.execute(sql, params)]

    assert any("COVERING INDEX jobs_claim" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in plan), plan


async def test_open_on_a_directory_is_a_config_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    with pytest.raises(ConfigError, match=str(folder)):
        await SqliteStore(folder).open()


async def test_open_below_a_regular_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "plainfile"
    blocker.write_text("not a folder")
    path = blocker / "gateway.sqlite3"
    with pytest.raises(ConfigError, match=str(path)):
        await SqliteStore(path).open()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
async def test_open_where_no_file_can_be_created_is_a_config_error() -> None:
    # /proc refuses new files even to root, unlike a chmod-ed folder.
    path = "/proc/gateway.sqlite3"
    with pytest.raises(ConfigError, match=path):
        await SqliteStore(path).open()


async def test_open_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not sqlite" * 500)
    with pytest.raises(ConfigError, match=f"{path}.*not a database"):
        await SqliteStore(path).open()


async def test_open_refuses_a_schema_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer"):
        await SqliteStore(path).open()


async def test_jobs_due_at_the_same_time_are_claimed_in_enqueue_order(tmp_path: Path) -> None:
    """A fan-out enqueues one job per inbox at one instant; claiming them in that order
    spreads a batch over hosts instead of draining them alphabetically."""
    store = SqliteStore(tmp_path / "g.sqlite3")
    await store.open()
    try:
        hosts = ["z.example", "a.example", "m.example", "b.example"]
        await store.enqueue(
            [NewJob(kind="deliver", dedupe_key=h, payload={}, host=h) for h in hosts], T0
        )
        claimed = await store.claim("w", T0, 60.0, 3)
        assert [job.host for job in claimed] == hosts[:3]
    finally:
        await store.close()


def _version_1_file(path: Path) -> None:
    """A store as the first schema left it, holding hosts in the spellings it stored."""
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO jobs (kind, dedupe_key, payload, host, next_attempt_at, created_at,"
            " updated_at) VALUES ('deliver', 'd1', ?, 'bücher.example:443', 1, 1, 1)",
            ('{"activity_id": "a", "inbox": "https://Bücher.example:443/inbox"}',),
        )
        conn.execute(
            "INSERT INTO follows VALUES ('follower', 'https://user@Peer.Example.:443/actor',"
            " 'user@peer.example.:443', 'https://peer.example/inbox', NULL, 'accepted', 'f', 1, 1)"
        )
        conn.execute("INSERT INTO domain_blocks VALUES ('[0:0:0:0:0:0:0:1]', 'spam', 1)")
        for host, failures in (("a.example.", 3), ("a.example", 5), ("b.example.", 7)):
            conn.execute(
                "INSERT INTO host_health VALUES (?, ?, '[]', 0, 0, 0, 0, NULL)", (host, failures)
            )
        conn.execute("INSERT INTO settings VALUES ('allowlist', '[\"Ä.example.\", \"b.example\"]')")


async def test_migration_2_respells_every_stored_host(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    _version_1_file(path)
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.counts() == {("queued", "xn--bcher-kva.example"): 1}
        follows = await store.list_follows(Direction.FOLLOWER)
        assert [f.domain for f in follows] == ["peer.example"]
        assert [b.domain for b in await store.list_blocks()] == ["[::1]"]
        hosts = {h.host: h.consecutive_failures for h in await store.list_hosts()}
        assert hosts == {"a.example": 5, "b.example": 7}  # the normal-form record wins
        assert await store.get_setting("allowlist") == '["b.example", "xn--4ca.example"]'
        assert _pragma(path, "user_version") == SCHEMA_VERSION
    finally:
        await store.close()
