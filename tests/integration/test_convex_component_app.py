"""Issue 27 end to end: an app with its own existing schema (examples/notes-app: notes, not
blocks) installs the federation component and federates both ways with an instance on the
reference backend, all real processes on 127.0.0.1 (the Convex functions inside convex-test,
behind tests/support/convex_bridge.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cluster import Node, eventually
from tests.support.convex_bridge import with_reference

pytestmark = pytest.mark.integration


def following(node: Node, other: Node) -> str | None:
    items = node.admin_call("GET", "/following")["items"]
    return next((f["state"] for f in items if f["actor"] == other.actor), None)


def content_at(node: Node, urn: str) -> str | None:
    return next((b["content"] for b in node.remote_blocks() if b["urn"] == urn), None)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("notes-app-e2e")
    with with_reference(root, "notes", app="examples/notes-app/convex") as pair:
        yield pair


def test_an_app_with_its_own_schema_federates_both_ways(pair: tuple[Node, Node]) -> None:
    notes, reference = pair
    reference.admin_call("POST", "/following", {"target": notes.domain})
    notes.admin_call("POST", "/following", {"target": reference.domain})
    eventually(lambda: following(reference, notes) == "accepted")
    eventually(lambda: following(notes, reference) == "accepted")

    # A world-shared note, written through the app's own API, reaches the peer as a block.
    note = {"heading": "Roadmap", "body": "from the notes app", "sharing": "world"}
    notes.backend_call("PUT", "/notes/roadmap", note)
    urn = f"urn:block:{notes.domain}:roadmap"
    eventually(lambda: content_at(reference, urn) == "from the notes app")

    # A team note never leaves; once a later world note has arrived, it would have too.
    notes.backend_call("PUT", "/notes/inner", {**note, "sharing": "team", "body": "secret"})
    notes.backend_call("PUT", "/notes/later", {**note, "body": "after the secret"})
    eventually(lambda: content_at(reference, f"urn:block:{notes.domain}:later") is not None)
    assert content_at(reference, f"urn:block:{notes.domain}:inner") is None

    # A block created on the reference backend reaches the notes app's component.
    block = reference.create_block(title="from the reference backend", content="hello notes")
    remote_urn = f"urn:block:{reference.domain}:{block['id']}"
    eventually(lambda: content_at(notes, remote_urn) == "hello notes")

    # Reporting drains: nothing left pending in the component's outbox.
    eventually(lambda: notes.backend_call("GET", "/healthz")["pending_events"] == 0)
