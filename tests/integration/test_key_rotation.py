"""A peer that rotates its key is re-fetched once (rate-limited) instead of being locked out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, _rsa_key, post, serve_peer

pytestmark = pytest.mark.integration


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Running, Peer, aiohttp.ClientSession]]:
    settings = settings_for(tmp_path, "gw", cache={"key_refetch_interval": 60.0})
    async with (
        running(settings) as node,
        serve_peer(rsa_index=3) as peer,
        aiohttp.ClientSession() as session,
    ):
        yield node, peer, session


async def send(node: Running, peer: Peer, session: aiohttp.ClientSession) -> tuple[int, Any]:
    req = peer.signed_post(f"{node.url}/inbox", peer.create())
    status, _, body = await post(session, req)
    return status, body


async def test_rotated_key_is_refetched_once_then_rate_limited(setup: Any) -> None:
    node, peer, session = setup
    assert (await send(node, peer, session))[0] == 202  # key fetched and cached
    peer.rsa = _rsa_key(4)  # the peer rotates its key; the gateway still caches the old one
    status, body = await send(node, peer, session)
    assert status == 202, body  # bad signature -> one re-fetch -> verified with the new key
    cached = await node.instance.store.get_key(peer.rsa_key_id)
    assert cached is not None and "BEGIN PUBLIC KEY" in cached.public_key_pem
    peer.rsa = _rsa_key(5)  # a second rotation within the re-fetch interval...
    status, body = await send(node, peer, session)
    assert status == 401 and "bad_signature" in body["detail"], body  # ...is not re-fetched
