"""The local backend down while remote blocks arrive: the gateway accepts them, keeps the
notifications in its durable queue, and hands every one over once the backend is back."""

from __future__ import annotations

import sqlite3

import pytest

from tests.fault.conftest import NodeFactory, follow_states, queue_totals
from tests.support.cluster import Node, eventually

pytestmark = pytest.mark.fault

BLOCKS = 20


def queued_backend_jobs(node: Node) -> int:
    with sqlite3.connect(node.root / "gateway.sqlite3") as db:
        row = db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'backend' AND state = 'queued'")
        return int(row.fetchone()[0])


def test_remote_blocks_wait_in_the_queue_while_the_backend_is_down(
    node_factory: NodeFactory,
) -> None:
    alpha = node_factory("alpha")
    # Retries stay under a second however many attempts pile up while the backend is away.
    beta = node_factory("beta", delivery={"backoff_base": 0.0001})
    for node in (alpha, beta):
        node.start()
    beta.admin_call("POST", "/following", {"target": alpha.domain})
    eventually(lambda: follow_states(beta, "following").get(alpha.actor) == "accepted")
    eventually(lambda: queue_totals(beta)["queued"] == 0)  # the follow change reached the backend

    beta.kill_backend()  # SIGKILL
    made = [alpha.create_block(title=f"while beta's backend is down {n}") for n in range(BLOCKS)]
    # beta's inbox took every one (alpha's deliveries are done, none dead)...
    eventually(lambda: queue_totals(alpha)["queued"] == 0, timeout=30)
    assert queue_totals(alpha)["dead"] == 0
    # ...and holds one notification each for its backend, retrying.
    eventually(lambda: queued_backend_jobs(beta) == BLOCKS, timeout=30)
    assert queue_totals(beta)["dead"] == 0

    beta.start_backend()
    expected = {f"urn:block:{alpha.domain}:{b['id']}" for b in made}
    eventually(lambda: {b["urn"] for b in beta.remote_blocks()} == expected, timeout=30)
    eventually(lambda: queue_totals(beta)["queued"] == 0)
    assert queue_totals(beta)["dead"] == 0
