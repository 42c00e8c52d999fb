"""Per-host federation health and queue control, driven through `federation admin ...` against
a real gateway delivering to one healthy and one failing peer."""

from __future__ import annotations

from typing import Any

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory
from tests.support.cli import admin
from tests.support.cluster import Node, eventually
from tests.support.receivers import OK, seed_follows, status

pytestmark = pytest.mark.fault


def host(node: Node, name: str) -> dict[str, Any]:
    [item] = admin(node, "hosts", "show", name, "--json")["items"]
    return dict(item)


def test_host_health_queue_and_retry_now(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    healthy, failing = peer_factory(2), peer_factory()
    failing.behave(status(503))
    # The first retry waits an hour: only "retry now" can bring it back soon.
    alpha = node_factory("alpha", delivery={"backoff_min": 3600.0, "breaker_threshold": 100})
    seed_follows(alpha.root / "gateway.sqlite3", [healthy, failing], Direction.FOLLOWER)
    alpha.start()
    alpha.create_block(title="one")
    alpha.create_block(title="two")

    # Counters reach the store in batches: wait for them, then read the whole report.
    sick = eventually(lambda: (h := host(alpha, failing.host))["failed_24h"] == 2 and h)
    fine = eventually(lambda: (h := host(alpha, healthy.host))["delivered_24h"] == 4 and h)
    assert fine == {
        **fine,
        "followers": 2,
        "following": 0,
        "failed_24h": 0,
        "delivered_7d": 4,
        "consecutive_failures": 0,
        "breaker": "closed",
        "unavailable": False,
        "signature_scheme": "cavage",
        "queued": 0,
        "last_error": None,
    }
    assert fine["last_success_at"] is not None
    assert sum(d for d, _ in fine["hourly"]) == 4
    assert sick == {
        **sick,
        "followers": 1,
        "delivered_24h": 0,
        "failed_7d": 2,
        "consecutive_failures": 2,
        "queued": 2,
        "last_error": "HTTP 503",
    }
    assert sick["next_attempt_at"] > sick["last_failure_at"] + 3000
    assert sick["hourly"][-1] == [0, 2]

    listing = admin(alpha, "hosts", "list").stdout
    assert failing.host in listing and "HTTP 503" in listing
    jobs = admin(alpha, "queue", "jobs", "--host", failing.host, "--json")["items"]
    assert len(jobs) == 2
    assert all(j["last_error"] == "HTTP 503" and j["attempts"] == 1 for j in jobs)
    assert all(
        j["next_attempt_at"] == pytest.approx(sick["next_attempt_at"], abs=3600) for j in jobs
    )

    failing.behave(OK)
    done = admin(alpha, "queue", "retry-now", "--host", failing.host, "--json")
    assert done == {"count": 2}
    eventually(lambda: len(failing.accepted_ids()) == 2, timeout=20)
    healed = eventually(lambda: (h := host(alpha, failing.host))["delivered_24h"] == 2 and h)
    assert healed["queued"] == 0
    assert healed["consecutive_failures"] == 0
    assert healed["failed_24h"] == 2
