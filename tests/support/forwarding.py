"""A real gateway, an author and a carrier (real actors on 127.0.0.1): the parties of inbox
forwarding and relays, for the tests of proofs and Linked Data signatures at the inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, SignedPost, post, serve_peer
from tests.support.stored import has_job_keyed

PROBLEM = "application/problem+json"


@dataclass
class ForwardingEnv:
    node: Running
    author: Peer
    carrier: Peer
    session: aiohttp.ClientSession

    @property
    def inbox(self) -> str:
        return f"{self.node.url}/inbox"

    async def recorded(self, activity_id: str) -> bool:
        return await has_job_keyed(self.node.instance.store, f"inbox:{activity_id}")

    async def expect_accepted(self, req: SignedPost, activity_id: str) -> None:
        """The inbox answers 202 and queues the activity for handling."""
        status, _, body = await post(self.session, req)
        assert status == 202, body
        assert await self.recorded(activity_id)

    async def expect_refused(
        self, req: SignedPost, title: str, detail_has: str, activity_id: str
    ) -> None:
        """The inbox answers 401 problem+json titled `title`, its detail naming `detail_has`,
        and queues nothing."""
        status, content_type, body = await post(self.session, req)
        assert (status, content_type) == (401, PROBLEM), body
        assert body["title"] == title, body
        assert detail_has in body["detail"], body
        assert not await self.recorded(activity_id)


@pytest.fixture
async def author_and_carrier(tmp_path: Path) -> AsyncIterator[ForwardingEnv]:
    async with (
        running(settings_for(tmp_path, "gw")) as node,
        serve_peer(rsa_index=0) as author,
        serve_peer(rsa_index=1) as carrier,
        aiohttp.ClientSession() as session,
    ):
        yield ForwardingEnv(node, author, carrier, session)
