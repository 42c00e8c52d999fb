"""Lag per host, seen from outside a real gateway process: a delivery owed to a receiver that is
down shows an oldest-owed age that grows, in `federation admin hosts list`, in the admin API and
on /metrics; a delivery that went out is counted by the event-to-delivered histogram."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory
from tests.support.cli import admin
from tests.support.cluster import Node, eventually
from tests.support.receivers import seed_follows

pytestmark = pytest.mark.fault

TOKEN = "lag-metrics"


def report(node: Node, host: str) -> dict[str, Any]:
    [item] = node.admin_call("GET", f"/hosts?host={host}")["items"]
    return dict(item)


def scrape(node: Node) -> str:
    request = urllib.request.Request(
        f"{node.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(resp.read().decode())


def sample(text: str, name: str, host: str) -> float | None:
    pattern = rf'^{name}{{[^}}]*activitypub_remote_host="{re.escape(host)}"[^}}]*}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_a_down_receiver_falls_behind_visibly_and_a_delivery_is_timed(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    healthy, down = peer_factory(), peer_factory()
    down.down()
    # The first retry waits an hour: the one delivery owed to `down` stays owed, and ages.
    alpha = node_factory("alpha", metrics_token=TOKEN, delivery={"backoff_min": 3600.0})
    seed_follows(alpha.root / "gateway.sqlite3", [healthy, down], Direction.FOLLOWER)
    alpha.start()
    alpha.create_block(title="one")

    eventually(lambda: sum(healthy.accepted_ids().values()) == 1)
    first = eventually(lambda: (r := report(alpha, down.host))["last_error"] and r)
    assert first["queued"] == 1 and first["oldest_due_age"] is not None
    later = eventually(lambda: (r := report(alpha, down.host))["oldest_due_age"] > 2.0 and r)
    assert later["oldest_due_age"] > first["oldest_due_age"]
    assert report(alpha, healthy.host)["oldest_due_age"] is None  # nothing owed

    table = admin(alpha, "hosts", "list").stdout
    header, *rows = table.splitlines()
    assert "OLDEST_DUE_AGE" in header
    [down_row] = [row for row in rows if row.startswith(down.host)]
    assert re.search(r"\b\d+s\b", down_row), table  # e.g. "3s": its age, for a person

    text = scrape(alpha)
    age = sample(text, "federation_delivery_oldest_due_age_seconds", down.host)
    assert age is not None and age >= later["oldest_due_age"]
    assert sample(text, "federation_delivery_oldest_due_age_seconds", healthy.host) is None
    # The one block went out to `healthy`, timed from the event to the delivery.
    assert sample(text, "federation_delivery_lag_seconds_count", healthy.host) == 1.0
    lag = sample(text, "federation_delivery_lag_seconds_sum", healthy.host)
    assert lag is not None and 0.0 < lag < 30.0
    assert sample(text, "federation_delivery_lag_seconds_count", down.host) is None
