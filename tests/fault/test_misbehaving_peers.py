"""Receiving peers that are down, slow, resetting, failing or gone: real gateway processes
deliver to real (misbehaving) HTTP servers on 127.0.0.1."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory, follow_states, queue_totals
from tests.support.cluster import Node, eventually
from tests.support.receivers import OK, RESET, Peer, seed_follows, slow, status

pytestmark = pytest.mark.fault


def start_sender(node_factory: NodeFactory, peers: list[Peer], **extra: Any) -> Node:
    alpha = node_factory("alpha", **extra)
    seed_follows(alpha.root / "gateway.sqlite3", peers, Direction.FOLLOWER)
    alpha.start()
    return alpha


def deliver_jobs(node: Node, host: str) -> list[dict[str, Any]]:
    """The sender's deliver jobs to `host`, read from its store file (the gateway is running;
    WAL lets us read beside it)."""
    with sqlite3.connect(node.root / "gateway.sqlite3") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT state, attempts, last_error FROM jobs WHERE kind = 'deliver' AND host = ?",
            [host],
        )
        return [dict(r) for r in rows]


def one_create(peer: Peer) -> str | None:
    """The id of the single Create the peer accepted, if any."""
    got = peer.accepted_ids()
    return next(iter(got))[1] if got else None


def test_peer_down_for_a_while_gets_everything_when_back(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    down, control = peer_factory(3), peer_factory()
    # The circuit breaker stays shut here (see the breaker test below for it opening).
    alpha = start_sender(node_factory, [down, control], delivery={"breaker_threshold": 100})
    down.down()
    made = [alpha.create_block(title=f"while down {n}") for n in range(3)]
    eventually(lambda: len(control.accepted_ids()) == 3, timeout=15)

    def retried_while_down() -> bool:
        jobs = deliver_jobs(alpha, down.host)
        return len(jobs) == 9 and all(
            j["attempts"] >= 2 and "connection failed" in (j["last_error"] or "") for j in jobs
        )

    eventually(retried_while_down, timeout=15)
    assert down.hits() == {}
    down.up()
    eventually(lambda: len(down.accepted_ids()) == 9, timeout=20)  # 3 blocks x 3 followers
    assert set(down.accepted_ids().values()) == {1}
    assert len(made) == 3
    eventually(lambda: queue_totals(alpha)["queued"] == 0, timeout=10)
    assert queue_totals(alpha)["dead"] == 0


def test_slow_peer_times_out_then_gets_the_activity(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    """The first answer would take 20 s; with a 1 s total timeout the gateway gives up on it,
    retries, and the peer (answering promptly by then) gets the activity."""
    peer = peer_factory()
    peer.behave(slow(20), OK)
    alpha = start_sender(node_factory, [peer], limits={"total_timeout": 1.0})
    started = time.monotonic()
    alpha.create_block(title="to a slow peer")
    activity = eventually(lambda: one_create(peer), timeout=15)
    assert time.monotonic() - started < 10
    assert peer.hits()[("/actor/inbox", activity)] == 2  # the slow attempt, then the retry
    eventually(lambda: [j["state"] for j in deliver_jobs(alpha, peer.host)] == ["done"])
    [job] = deliver_jobs(alpha, peer.host)
    assert job["attempts"] == 2 and job["last_error"] == "timeout", job


def test_a_slow_peer_with_default_timeouts_does_not_delay_other_hosts(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    """30 followers on a host that takes 20 s per answer, 90 on three prompt hosts: the slow
    host holds at most per_host_concurrency requests; everyone else is served at once."""
    slow_peer = peer_factory(30)
    slow_peer.behave(slow(20))
    fast = [peer_factory(30) for _ in range(3)]
    alpha = start_sender(node_factory, [slow_peer, *fast])  # default limits: total 30 s
    started = time.monotonic()
    alpha.create_block(title="fan-out past a slow host")
    eventually(lambda: all(len(p.accepted_ids()) == 30 for p in fast), timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"the prompt hosts waited {elapsed:.1f} s"
    assert slow_peer.pending == 4  # per_host_concurrency: the rest of its jobs wait their turn
    assert slow_peer.accepted_ids() == {}
    # Only the slow host's 30 are owed (the block event's own job is marked done in a batch,
    # a moment after its deliveries were queued).
    eventually(lambda: queue_totals(alpha)["queued"] == 30, timeout=5)


def test_peer_resetting_connections_gets_retries_then_the_activity(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    peer = peer_factory()
    peer.behave(RESET, RESET, RESET, OK)
    alpha = start_sender(node_factory, [peer])
    alpha.create_block(title="through resets")
    activity = eventually(lambda: one_create(peer), timeout=15)
    assert peer.hits()[("/actor/inbox", activity)] == 4
    assert peer.accepted_ids()[("/actor/inbox", activity)] == 1
    eventually(lambda: [j["state"] for j in deliver_jobs(alpha, peer.host)] == ["done"])
    [job] = deliver_jobs(alpha, peer.host)
    assert job["attempts"] == 4 and "connection failed" in job["last_error"], job


def test_500_then_202_is_delivered(node_factory: NodeFactory, peer_factory: PeerFactory) -> None:
    peer = peer_factory()
    peer.behave(status(500), status(503), OK)
    alpha = start_sender(node_factory, [peer])
    alpha.create_block(title="after two errors")
    activity = eventually(lambda: one_create(peer), timeout=15)
    assert peer.hits()[("/actor/inbox", activity)] == 3
    eventually(lambda: [j["state"] for j in deliver_jobs(alpha, peer.host)] == ["done"])
    assert follow_states(alpha, "followers")[peer.actor()] == "accepted"


def test_410_is_final_and_removes_the_follower(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    gone, control = peer_factory(), peer_factory()
    gone.behave(status(410))
    alpha = start_sender(node_factory, [gone, control])
    alpha.create_block(title="first")
    eventually(lambda: [j["state"] for j in deliver_jobs(alpha, gone.host)] == ["dead"])
    [job] = deliver_jobs(alpha, gone.host)
    assert job["attempts"] == 1 and "410" in job["last_error"], job
    assert follow_states(alpha, "followers")[gone.actor()] == "undone"
    assert len(gone.hits()) == 1

    alpha.create_block(title="second")
    eventually(lambda: len(control.accepted_ids()) == 2, timeout=15)
    # The barrier: control has the second Create, so its fan-out (one batch of jobs, one per
    # accepted follower inbox) is in the queue; a job for the removed follower would be there.
    assert len(deliver_jobs(alpha, gone.host)) == 1
    assert len(gone.hits()) == 1


def test_breaker_reopens_promptly_once_the_peer_is_back(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    """12 followers on a host that is down: the breaker opens (threshold 10) for 0.5 s at a
    time; when the host comes back, its backlog must flow within seconds."""
    down = peer_factory(12)
    alpha = start_sender(node_factory, [down], delivery={"breaker_threshold": 10})
    down.down()
    alpha.create_block(title="behind a breaker")
    eventually(lambda: sum(j["attempts"] for j in deliver_jobs(alpha, down.host)) >= 12, timeout=15)
    time.sleep(1)
    down.up()
    eventually(lambda: len(down.accepted_ids()) == 12, timeout=5)
