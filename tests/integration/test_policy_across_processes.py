"""A domain block applies to the very next inbound request in every process sharing the store.

Two real `federation serve` processes of one instance share one SQLite file: one with every role
on the instance's port and a web process on another port (as behind a load balancer). Each keeps
the domain policy in memory; a block made through one process's admin API must refuse the next
activity at the other, and an unblock there must let the next one in at the first, with no wait
in between.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.support.cluster import Node, free_port, make_node, stop
from tests.support.peer import Peer, post, serve_peer

pytestmark = pytest.mark.integration


@dataclass
class Pair:
    node: Node  # every role, on the instance's own port
    replica_url: str  # a web process of the same instance: same store, another port
    peer: Peer
    session: aiohttp.ClientSession

    async def send(self, gateway_url: str) -> int:
        """A fresh signed Create to the inbox of the process at `gateway_url`. It is signed
        for the instance's public URL, which both processes serve."""
        signed = self.peer.signed_post(f"{self.node.url}/inbox", self.peer.create())
        signed.url = f"{gateway_url}/inbox"
        status, _, body = await post(self.session, signed)
        assert status in (202, 403), body
        if status == 403:
            assert body["title"] == "Domain blocked", body
        return status

    async def admin(self, gateway_url: str, method: str, path: str, body: object = None) -> None:
        headers = {"Authorization": f"Bearer {self.node.admin_token}"}
        url = f"{gateway_url}/admin/api{path}"
        async with self.session.request(method, url, json=body, headers=headers) as resp:
            assert resp.status < 300, await resp.text()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    node = make_node(tmp_path, "shared")
    node.start_backend()
    node.start_gateway("all")
    replica_port = free_port()
    replica = node.start_replica("web", replica_port)
    try:
        async with serve_peer(rsa_index=0) as peer, aiohttp.ClientSession() as session:
            yield Pair(node, f"http://127.0.0.1:{replica_port}", peer, session)
    finally:
        stop(replica, signal.SIGTERM)
        node.stop()


async def test_a_block_through_one_process_refuses_the_next_request_at_the_other(
    pair: Pair,
) -> None:
    first, replica = pair.node.url, pair.replica_url
    # Both processes accept the peer, so each holds a policy snapshot without the block.
    assert await pair.send(first) == 202
    assert await pair.send(replica) == 202
    await pair.admin(first, "POST", "/blocks", {"domain": pair.peer.domain, "reason": "spam"})
    assert await pair.send(replica) == 403
    assert await pair.send(first) == 403
    await pair.admin(replica, "DELETE", f"/blocks/{pair.peer.domain}")
    assert await pair.send(first) == 202
    assert await pair.send(replica) == 202
