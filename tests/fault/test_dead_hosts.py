"""A dead or throttling host holds only its own lane: a real gateway delivering to real peers on
loopback, one of them blackholed (reads the request, never answers) or answering 429."""

from __future__ import annotations

import time

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory
from tests.support.cluster import eventually
from tests.support.receivers import OK, Behaviour, Peer, seed_follows, slow

pytestmark = pytest.mark.fault

NEVER = 3600.0  # a blackholed peer's "answer after": the gateway gives up long before
READ_TIMEOUT = 1.0
BREAKER_OPEN = 8.0  # long enough to see parked jobs stay parked, short enough to see them go
LANE = 2  # per-host and global slots alike: one dead lane could take all of them


def delivered(peer: Peer) -> int:
    return sum(peer.accepted_ids().values())


def tried(peer: Peer) -> int:
    return sum(peer.hits().values())


def test_a_blackholed_host_parks_its_jobs_and_gets_them_all_once_when_back(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    healthy, dead = peer_factory(10), peer_factory(10)
    dead.behave(slow(NEVER))
    alpha = node_factory(
        "alpha",
        delivery={
            "workers": LANE,
            "per_host_concurrency": LANE,
            "breaker_open_seconds": BREAKER_OPEN,
        },
        limits={"read_timeout": READ_TIMEOUT},
    )
    seed_follows(alpha.root / "gateway.sqlite3", [healthy, dead], Direction.FOLLOWER)
    alpha.start()

    alpha.create_block(title="one")
    # The dead host's first wave times out and opens its breaker at once: its other jobs are
    # parked untried, and the slots they would have held deliver the healthy host's block.
    eventually(lambda: delivered(healthy) == 10)
    assert tried(dead) == LANE
    # The next block: the dead host's new jobs are parked without a try.
    alpha.create_block(title="two")
    eventually(lambda: delivered(healthy) == 20)
    assert tried(dead) == LANE

    dead.behave(OK)  # back: the half-open probe succeeds and every parked job goes out
    eventually(lambda: delivered(dead) == 20, timeout=BREAKER_OPEN + 30)
    assert set(dead.accepted_ids().values()) == {1}  # none lost (20 distinct), none twice


def test_a_429_with_retry_after_pauses_that_host_only(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    fine, busy = peer_factory(5), peer_factory(5)
    wait = 4
    busy.behave(Behaviour(status=429, retry_after=str(wait)), OK)
    alpha = node_factory("alpha", delivery={"per_host_concurrency": 1})
    seed_follows(alpha.root / "gateway.sqlite3", [fine, busy], Direction.FOLLOWER)
    alpha.start()

    alpha.create_block(title="one")
    eventually(lambda: tried(busy) >= 1)
    told_at = time.monotonic()
    eventually(lambda: delivered(fine) == 5)  # the other host is not slowed
    fine_done = time.monotonic() - told_at
    eventually(lambda: delivered(busy) >= 1, timeout=wait + 30)
    busy_resumed = time.monotonic() - told_at
    eventually(lambda: delivered(busy) == 5, timeout=30)
    assert fine_done < wait <= busy_resumed + 0.2  # poll granularity
    assert set(busy.accepted_ids().values()) == {1}


def test_a_slow_host_gets_fewer_deliveries_at_once(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    lane, answer_after = 4, 0.6
    sluggish = peer_factory(12)
    sluggish.behave(slow(answer_after))
    alpha = node_factory(
        "alpha", delivery={"per_host_concurrency": lane, "slow_seconds": answer_after / 2}
    )
    seed_follows(alpha.root / "gateway.sqlite3", [sluggish], Direction.FOLLOWER)
    alpha.start()
    alpha.create_block(title="one")
    eventually(lambda: delivered(sluggish) >= lane)
    assert sluggish.peak_pending == lane  # the first wave: the full lane
    sluggish.reset_peak()
    eventually(lambda: delivered(sluggish) == 12)
    assert sluggish.peak_pending == 1  # every answer was slow: the lane narrowed to one
