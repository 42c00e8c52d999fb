"""Fault-injection fixtures: real gateway processes, misbehaving peers, fast retry settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Node, make_node
from tests.support.receivers import Peer

# Retries in fractions of a second instead of minutes; a dead worker's lease lapses in 2 s.
FAST_DELIVERY: dict[str, Any] = {
    "backoff_base": 0.001,
    "backoff_min": 0.2,
    "lease_seconds": 2,
    "breaker_open_seconds": 0.5,
}

NodeFactory = Callable[..., Node]
PeerFactory = Callable[..., Peer]


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator[NodeFactory]:
    """make_node(name, mode="open", delivery=..., limits=...) -> an unstarted Node; every
    node made is stopped at the end. `delivery` is merged over FAST_DELIVERY."""
    made: list[Node] = []

    def make(name: str, mode: str = "open", **extra: Any) -> Node:
        extra["delivery"] = {**FAST_DELIVERY, **extra.get("delivery", {})}
        node = make_node(tmp_path, name, mode, **extra)
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop()


@pytest.fixture
def peer_factory() -> Iterator[PeerFactory]:
    made: list[Peer] = []

    def make(actors: int = 1) -> Peer:
        peer = Peer(actors)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def queue_totals(node: Node) -> dict[str, int]:
    totals: dict[str, int] = node.admin_call("GET", "/queue")["totals"]
    return totals


def follow_states(node: Node, group: str) -> dict[str, str]:
    return {f["actor"]: f["state"] for f in node.admin_call("GET", f"/{group}")["items"]}
