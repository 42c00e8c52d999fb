"""Issue 5 end to end with separate processes: three instances, each a `federation serve` and a
`federation backend serve` on 127.0.0.1, steered only through their HTTP APIs (admin API for
follows, the reference backend's API for blocks). Nothing runs inside the test's process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Node, eventually, http_json, make_node, started

pytestmark = pytest.mark.integration


def state(node: Node, relation: str, other: Node) -> str | None:
    items = node.admin_call("GET", f"/{relation}")["items"]
    return next((f["state"] for f in items if f["actor"] == other.actor), None)


def urns(node: Node) -> dict[str, dict[str, Any]]:
    return {b["urn"]: b for b in node.remote_blocks()}


def jobs_for_host(node: Node, host: str) -> int:
    """How many jobs (any state) `node` has for `host`."""
    return sum(c["count"] for c in node.admin_call("GET", "/queue")["counts"] if c["host"] == host)


def local_work_queued(node: Node) -> int:
    """`node`'s queued jobs that target no host: inbound activities, backend events, ..."""
    counts = node.admin_call("GET", "/queue")["counts"]
    return sum(c["count"] for c in counts if c["host"] == "" and c["state"] == "queued")


def events_pending(node: Node) -> int:
    """Events `node`'s backend has not yet handed to its gateway."""
    return int(http_json("GET", f"{node.backend_url}/healthz")["pending_events"])


def urn_of(node: Node, block: dict[str, Any]) -> str:
    return f"urn:block:{node.domain}:{block['id']}"


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node, Node]]:
    root: Path = tmp_path_factory.mktemp("e2e")
    nodes = (make_node(root, "alpha"), make_node(root, "beta"),
             make_node(root, "gamma", mode="approval"))  # fmt: skip
    with started(*nodes):
        yield nodes


def test_three_instances_in_separate_processes(trio: tuple[Node, Node, Node]) -> None:
    alpha, beta, gamma = trio
    beta.admin_call("POST", "/following", {"target": alpha.domain})
    gamma.admin_call("POST", "/following", {"target": alpha.domain})
    alpha.admin_call("POST", "/following", {"target": gamma.domain})
    eventually(lambda: state(beta, "following", alpha) == "accepted")
    eventually(lambda: state(gamma, "following", alpha) == "accepted")
    eventually(lambda: state(gamma, "followers", alpha) == "pending")
    assert state(alpha, "following", gamma) == "pending"

    public = alpha.create_block(title="hello", content="world")
    private = alpha.create_block(title="secret", visibility="private")
    for receiver in (beta, gamma):
        eventually(lambda r=receiver: urn_of(alpha, public) in urns(r))
        assert urns(receiver)[urn_of(alpha, public)]["content"] == "world"

    sent_to_alpha = jobs_for_host(gamma, alpha.domain)  # gamma's Follow, so far
    from_gamma = gamma.create_block(title="from gamma")
    # The barrier: gamma's backend has handed over the block's event and gamma has run all its
    # local work (the event job among it), so the fan-out is queued: a delivery to alpha would
    # be counted now.
    eventually(lambda: events_pending(gamma) == 0 and local_work_queued(gamma) == 0)
    assert jobs_for_host(gamma, alpha.domain) == sent_to_alpha  # alpha's follow still pending
    assert urn_of(gamma, from_gamma) not in urns(alpha)
    gamma.admin_call("POST", "/followers/approve", {"actor": alpha.actor})
    eventually(lambda: state(alpha, "following", gamma) == "accepted")
    eventually(lambda: urn_of(gamma, from_gamma) in urns(alpha))  # backfilled

    alpha.backend_call("PATCH", f"/api/v1/blocks/{public['id']}", {"content": "edited"})
    for receiver in (beta, gamma):
        eventually(lambda r=receiver: urns(r)[urn_of(alpha, public)]["content"] == "edited")
    alpha.backend_call("DELETE", f"/api/v1/blocks/{public['id']}")
    for receiver in (beta, gamma):
        eventually(lambda r=receiver: urn_of(alpha, public) not in urns(r))
    for receiver in (beta, gamma):
        assert urn_of(alpha, private) not in urns(receiver)

    beta.admin_call("POST", "/following/unfollow", {"actor": alpha.actor})
    eventually(lambda: state(alpha, "followers", beta) == "undone")
    later = alpha.create_block(title="later")
    eventually(lambda: urn_of(alpha, later) in urns(gamma))
    assert urn_of(alpha, later) not in urns(beta)
