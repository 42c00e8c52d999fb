"""Pausing delivery to one host, driven through `federation admin hosts ...` against a real
gateway process delivering to two real peers on loopback: one paused, one not."""

from __future__ import annotations

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory
from tests.fault.test_host_health import host
from tests.support.cli import admin
from tests.support.cluster import HttpFailure, eventually, http_json
from tests.support.receivers import seed_follows

pytestmark = pytest.mark.fault

TITLES = ("one", "two", "three")


def test_a_paused_hosts_jobs_wait_untried_then_go_in_order_on_resume(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    running, paused = peer_factory(), peer_factory()
    # One delivery at a time per host: the order they arrive in is the order they were sent.
    alpha = node_factory("alpha", delivery={"per_host_concurrency": 1})
    store = alpha.root / "gateway.sqlite3"
    seed_follows(store, [running, paused], Direction.FOLLOWER)
    seed_follows(store, [paused], Direction.FOLLOWING)
    alpha.start()

    out = admin(alpha, "hosts", "pause", paused.host, "--reason", "their maintenance").stdout
    assert out.strip() == f"{paused.host}: delivery paused"
    [pause] = admin(alpha, "hosts", "paused", "--json")["items"]
    assert pause["host"] == paused.host and pause["reason"] == "their maintenance"
    for title in TITLES:
        alpha.create_block(title=title)

    # The barrier: the other host got all three, claimed from the same queue at the same time.
    eventually(lambda: len(running.accepted_ids()) == len(TITLES))
    waiting = admin(alpha, "queue", "jobs", "--host", paused.host, "--json")["items"]
    assert len(waiting) == len(TITLES)
    assert all(j["attempts"] == 0 and j["last_error"] is None for j in waiting)
    assert paused.hits() == {}  # not one request reached it
    report = host(alpha, paused.host)
    assert report == {
        **report,
        "paused": True,
        "blocked": False,
        "queued": len(TITLES),
        "consecutive_failures": 0,
        "failed_24h": 0,
        "breaker": "closed",
        "unavailable": False,
    }
    assert host(alpha, running.host)["paused"] is False
    listing = admin(alpha, "hosts", "list").stdout
    assert "PAUSED" in listing and "True" in listing

    # Inbound from a paused host is unaffected.
    code, body = paused.post_signed(alpha.url + "/inbox", paused.create_activity(7))
    assert code == 202, body
    eventually(lambda: any(b["title"] == "peer block 7" for b in alpha.remote_blocks()))

    out = admin(alpha, "hosts", "resume", paused.host).stdout
    assert out.strip() == f"{paused.host}: delivery resumed, {len(TITLES)} jobs waiting to go"
    eventually(lambda: len(paused.accepted_ids()) == len(TITLES))
    assert list(paused.accepted_ids()) == list(running.accepted_ids())  # the same order
    after = eventually(lambda: (h := host(alpha, paused.host))["queued"] == 0 and h)
    assert after["paused"] is False and after["failed_24h"] == 0
    assert admin(alpha, "hosts", "paused", "--json")["items"] == []


def test_resuming_a_host_that_is_not_paused_is_a_404(node_factory: NodeFactory) -> None:
    alpha = node_factory("alpha")
    alpha.start()
    with pytest.raises(HttpFailure) as refused:
        http_json(
            "POST",
            f"{alpha.url}/admin/api/hosts/resume",
            {"host": "Nowhere.Example."},
            token=alpha.admin_token,
        )
    assert refused.value.status == 404
    assert "delivery to nowhere.example is not paused" in refused.value.body
