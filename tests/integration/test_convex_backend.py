"""Issue 15 end to end: a gateway whose backend is the Convex example app in convex/ (with the
federation component installed, issue 27), federating with an instance on the reference backend,
all real processes on 127.0.0.1. The Convex functions run inside convex-test behind a bridge
(tests/support/convex_bridge.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.cluster import Node, eventually
from tests.support.convex_bridge import with_reference

pytestmark = pytest.mark.integration


def following(node: Node, other: Node) -> str | None:
    items = node.admin_call("GET", "/following")["items"]
    return next((f["state"] for f in items if f["actor"] == other.actor), None)


def urns(node: Node) -> set[str]:
    return {b["urn"] for b in node.remote_blocks()}


def urn_of(node: Node, block: dict[str, Any]) -> str:
    return f"urn:block:{node.domain}:{quote(block['id'], safe='')}"


def content_at(node: Node, urn: str) -> str | None:
    return next((b["content"] for b in node.remote_blocks() if b["urn"] == urn), None)


def follows_of(node: Node, other: Node) -> set[tuple[str, str]]:
    items = node.backend_call("GET", "/api/v1/follows")["items"]
    return {(f["direction"], f["state"]) for f in items if f["actor"] == other.actor}


def get_block(node: Node, ref: str) -> dict[str, Any]:
    """The Convex action resolve.getBlock, through the bridge's HTTP route."""
    result: dict[str, Any] = node.backend_call("GET", f"/api/v1/resolve?ref={quote(ref)}")
    return result


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("convex-e2e")
    with with_reference(root, "convex") as pair:
        yield pair


def test_convex_backend_federates_with_a_reference_backend(pair: tuple[Node, Node]) -> None:
    convex, reference = pair
    reference.admin_call("POST", "/following", {"target": convex.domain})
    eventually(lambda: following(reference, convex) == "accepted")

    # A public block created in Convex reaches the other instance.
    public = convex.create_block(title="from convex", content="hello")
    eventually(lambda: urn_of(convex, public) in urns(reference))

    # A private one never leaves: events go out in order, so once the public block written
    # after it has arrived, the private one would have arrived too.
    private = convex.create_block(title="secret", visibility="private")
    after = convex.create_block(title="after the secret")
    eventually(lambda: urn_of(convex, after) in urns(reference))
    assert urn_of(convex, private) not in urns(reference)
    asked = reference.backend_call("GET", f"/api/v1/resolve?urn={quote(urn_of(convex, private))}")
    assert asked["status"] == "not_found"

    # getBlock of a remote URN that nothing pushed to Convex resolves through the gateway.
    early = reference.create_block(title="before any follow", content="resolved")
    found = get_block(convex, urn_of(reference, early))
    assert found["status"] == "ok" and found["source"] == "gateway"
    assert found["block"]["content"] == "resolved"
    missing = get_block(convex, f"urn:block:{reference.domain}:no-such-block")
    assert missing["status"] == "not_found"

    # Once Convex follows, a block created there reaches Convex's remoteBlocks.
    convex.admin_call("POST", "/following", {"target": reference.domain})
    eventually(lambda: following(convex, reference) == "accepted")
    remote = reference.create_block(title="from the reference backend")
    eventually(lambda: urn_of(reference, remote) in urns(convex))
    cached = get_block(convex, urn_of(reference, remote))
    assert cached["status"] == "ok" and cached["source"] == "cache"

    # The gateway told Convex about both follows (follow.changed, through /api/v1/inbound).
    eventually(
        lambda: (
            follows_of(convex, reference) == {("follower", "accepted"), ("following", "accepted")}
        )
    )

    # An edit in Convex reaches the peer.
    path = f"/api/v1/blocks/{quote(public['id'], safe='')}"
    convex.backend_call("PATCH", path, {"content": "edited in convex"})
    eventually(lambda: content_at(reference, urn_of(convex, public)) == "edited in convex")

    # Deleting in Convex deletes at the peer.
    convex.backend_call("DELETE", path)
    eventually(lambda: urn_of(convex, public) not in urns(reference))
    assert urn_of(convex, after) in urns(reference)
    eventually(lambda: convex.backend_call("GET", "/healthz")["pending_events"] == 0)
