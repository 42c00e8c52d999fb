"""SIGKILL of a gateway in the middle of its work: nothing accepted or queued is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory, queue_totals
from tests.support.cluster import Node, eventually
from tests.support.receivers import seed_follows, slow

pytestmark = pytest.mark.fault

HOSTS = 10
ACTORS_PER_HOST = 30  # 300 followers, one inbox each (no shared inbox to collapse them)
BLOCKS = 3
WORKERS = 16


@contextmanager
def frozen(process: subprocess.Popen[bytes] | None) -> Iterator[None]:
    """The process stopped (SIGSTOP) for the block, so work that needs it is still owed when the
    gateway is killed inside the block, however fast the machine is; resumed after."""
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def queued_jobs(node: Node) -> dict[str, int]:
    """Queued jobs per kind, read straight from a (killed) gateway's store file."""
    with sqlite3.connect(node.root / "gateway.sqlite3") as db:
        rows = db.execute("SELECT kind, COUNT(*) FROM jobs WHERE state = 'queued' GROUP BY kind")
        return dict(rows.fetchall())


def test_sigkill_mid_fanout_delivers_everything_once(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    peers = [peer_factory(ACTORS_PER_HOST) for _ in range(HOSTS)]
    for peer in peers:
        peer.behave(slow(0.02))  # a realistic round trip, so the fan-out takes seconds
    alpha = node_factory("alpha", delivery={"workers": WORKERS})
    assert seed_follows(alpha.root / "gateway.sqlite3", peers, Direction.FOLLOWER) == 300
    alpha.start()
    expected = HOSTS * ACTORS_PER_HOST * BLOCKS

    def distinct() -> int:
        return sum(len(p.accepted_ids()) for p in peers)

    for n in range(BLOCKS):
        alpha.create_block(title=f"fan-out {n}")
    eventually(lambda: distinct() >= expected // 3, timeout=60, interval=0.02)
    alpha.kill_gateway()  # SIGKILL
    at_kill = distinct()
    assert at_kill < expected, "the fan-out finished before the kill: nothing was tested"

    alpha.start_gateway()
    eventually(lambda: distinct() == expected, timeout=60)
    total = sum(sum(p.accepted_ids().values()) for p in peers)
    duplicates = total - expected
    print(f"\nfan-out: {at_kill}/{expected} arrived at the kill; {duplicates} duplicate(s)")
    for peer in peers:
        got = peer.accepted_ids()
        # every follower's inbox got each of the three activities
        assert {path for path, _ in got} == {f"/users/{i}/inbox" for i in range(1, 30)} | {
            "/actor/inbox"
        }
        assert len({aid for _, aid in got}) == BLOCKS
    # Only deliveries in flight at the kill (at most one per worker) can arrive twice.
    assert duplicates <= WORKERS, duplicates
    eventually(lambda: queue_totals(alpha)["queued"] == 0, timeout=30)
    assert queue_totals(alpha)["dead"] == 0


def test_sigkill_after_inbox_202s_processes_every_accepted_activity(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    peer = peer_factory()
    beta = node_factory("beta")
    seed_follows(beta.root / "gateway.sqlite3", [peer], Direction.FOLLOWING)
    beta.start()
    count = 200
    activities = [peer.create_activity(n) for n in range(count)]

    def send(activity: dict[str, Any]) -> int:
        code, body = peer.post_signed(beta.url + "/inbox", activity)
        assert code == 202, body
        return code

    with frozen(beta.backend), ThreadPoolExecutor(16) as pool:
        assert list(pool.map(send, activities)) == [202] * count
        beta.kill_gateway()  # SIGKILL right after the last 202

    left = queued_jobs(beta)
    print(f"\ninbox: queued at the kill: {left}")
    assert left, "every activity was processed before the kill: nothing was tested"
    beta.start_gateway()
    expected = {a["object"]["urn"] for a in activities}
    eventually(lambda: {b["urn"] for b in beta.remote_blocks()} == expected, timeout=60)
    eventually(lambda: queue_totals(beta)["queued"] == 0, timeout=30)
    assert queue_totals(beta)["dead"] == 0


def test_sigkill_during_backfill_resumes_until_the_follower_has_every_block(
    node_factory: NodeFactory,
) -> None:
    blocks = 300
    alpha = node_factory("alpha", delivery={"backfill_page_size": 10, "backfill_pause": 0.05})
    beta = node_factory("beta")
    for node in (alpha, beta):
        node.start()

    def make(n: int) -> str:
        return str(alpha.create_block(title=f"old {n}")["id"])

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(make, range(blocks)))
    started = time.monotonic()
    beta.admin_call("POST", "/following", {"target": alpha.domain})

    def arrived() -> set[str]:
        return {b["urn"].rsplit(":", 1)[1] for b in beta.remote_blocks()}

    eventually(lambda: len(arrived()) >= blocks // 3, timeout=60, interval=0.05)
    alpha.kill_gateway()  # SIGKILL mid-backfill
    at_kill = len(arrived())
    assert at_kill < blocks, "the backfill finished before the kill: nothing was tested"

    alpha.start_gateway()
    eventually(lambda: arrived() == ids, timeout=90)
    print(f"\nbackfill: {at_kill}/{blocks} at the kill; all in {time.monotonic() - started:.1f} s")
    eventually(lambda: queue_totals(alpha)["queued"] == 0, timeout=30)
    # Deliveries beta accepted just before the kill are sent again after the restart; beta's
    # inbox answers those 409 (already received), which counts as delivered: nothing is dead.
    dead = alpha.admin_call("GET", "/queue/dead")["items"]
    assert dead == [], dead


def test_restart_after_sigkill_moves_the_backlog_within_seconds_not_a_lease(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    peer = peer_factory()
    beta = node_factory("beta", delivery={"lease_seconds": 600})
    seed_follows(beta.root / "gateway.sqlite3", [peer], Direction.FOLLOWING)
    beta.start()
    activities = [peer.create_activity(n) for n in range(100)]
    with frozen(beta.backend), ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda a: peer.post_signed(beta.url + "/inbox", a)[0], activities))
        assert codes == [202] * len(activities)
        beta.kill_gateway()  # SIGKILL right after the last 202
    # What a crash mid-work leaves behind, made certain: every queued job still leased to the
    # dead process, for a lease far longer than the test may wait.
    with sqlite3.connect(beta.root / "gateway.sqlite3") as db:
        leased = db.execute(
            "UPDATE jobs SET lease_owner = 'the-killed-process', lease_until = ?"
            " WHERE state = 'queued'",
            [time.time() + 600],
        ).rowcount
    assert leased, "every activity was processed before the kill: nothing was tested"

    beta.start_gateway()
    restarted = time.monotonic()
    expected = {a["object"]["urn"] for a in activities}
    eventually(lambda: {b["urn"] for b in beta.remote_blocks()} == expected, timeout=5)
    print(f"\nrestart: {leased} leased job(s) all done {time.monotonic() - restarted:.2f} s after")
    eventually(lambda: queue_totals(beta)["queued"] == 0, timeout=5)
    assert queue_totals(beta)["dead"] == 0
