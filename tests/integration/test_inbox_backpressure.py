"""Inbound backpressure per peer at a real gateway (real HTTP on 127.0.0.1, peers with real
keys the gateway fetches): a host over its limit is answered 429 problem+json with Retry-After
and nothing it sent past the limit is stored, while another host is served in the same time;
unsigned requests are limited by address; a forged signature naming a host spends nothing of
that host's; signed GETs have a limit of their own.

The limits are tiny (a burst of BURST, refilled at one token in 1,000 s), so what is allowed is
exactly the burst, whatever the machine's speed. Each 429 is held back the default second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.config import Limits
from federation.signatures import SigningKey, sign_cavage
from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, SignedPost, post, serve_peer
from tests.support.stored import has_job_keyed

pytestmark = pytest.mark.integration

BURST = 3
SLOW = 0.001  # tokens a second: none comes back during a test
PROBLEM = "application/problem+json"
LIMITS = {"inbox_rate": SLOW, "inbox_burst": BURST, "fetch_rate": SLOW, "fetch_burst": BURST}


@dataclass
class Env:
    node: Running
    a: Peer
    b: Peer
    session: aiohttp.ClientSession

    def creates(self, peer: Peer, count: int) -> list[SignedPost]:
        inbox = f"{self.node.url}/inbox"
        return [peer.signed_post(inbox, peer.create()) for _ in range(count)]

    async def recorded(self, req: SignedPost) -> bool:
        activity_id = json.loads(req.body)["id"]
        return await has_job_keyed(self.node.instance.store, f"inbox:{activity_id}")


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = settings_for(tmp_path, "gw", limits=LIMITS, authorized_fetch=True)
    async with (
        running(settings) as node,
        serve_peer(rsa_index=0) as a,
        serve_peer(rsa_index=1) as b,
        aiohttp.ClientSession() as session,
    ):
        yield Env(node, a, b, session)


def assert_throttled(status: int, content_type: str, body: Any, retry_after: str | None) -> None:
    assert (status, content_type) == (429, PROBLEM), body
    assert body["status"] == 429 and body["title"] == "Too many requests"
    assert retry_after is not None and int(retry_after) >= 1


async def send(session: aiohttp.ClientSession, req: SignedPost) -> tuple[int, str, Any, str | None]:
    async with session.post(req.url, data=req.body, headers=req.headers) as resp:
        text = await resp.text()
        body = json.loads(text) if resp.content_type.endswith("json") else text
        return resp.status, resp.content_type, body, resp.headers.get("Retry-After")


async def test_a_flooding_host_is_refused_past_its_burst_and_another_is_served(env: Env) -> None:
    flood = env.creates(env.a, BURST + 5)
    others = env.creates(env.b, BURST)
    answers = await asyncio.gather(*(send(env.session, r) for r in [*flood, *others]))
    flood_answers, other_answers = answers[: len(flood)], answers[len(flood) :]

    assert [a[0] for a in other_answers] == [202] * BURST
    assert sorted(a[0] for a in flood_answers) == [202] * BURST + [429] * 5
    for req, answer in zip(flood, flood_answers, strict=True):
        if answer[0] == 429:
            assert_throttled(*answer)
            assert f"host {env.a.domain}" in answer[2]["detail"]
            assert not await env.recorded(req)
        else:
            assert await env.recorded(req)
    assert all([await env.recorded(r) for r in others])


async def test_an_unsigned_flood_is_limited_by_address(env: Env) -> None:
    unsigned = SignedPost(
        f"{env.node.url}/inbox",
        {"Content-Type": "application/activity+json"},
        json.dumps(env.a.create()).encode(),
    )
    statuses = [(await send(env.session, unsigned))[0] for _ in range(BURST)]
    assert statuses == [401] * BURST  # no signature: refused by the pipeline, within the limit
    started = time.monotonic()
    answer = await send(env.session, unsigned)
    assert_throttled(*answer)
    # Held back before it is answered: a sender ignoring Retry-After is slowed to its pace.
    assert time.monotonic() - started >= Limits().throttled_hold_seconds / 2  # jittered
    assert "unsigned requests from 127.0.0.1" in answer[2]["detail"]
    # A signed peer at that very address is keyed by its host, not by the address.
    [create] = env.creates(env.b, 1)
    assert (await post(env.session, create))[0] == 202


async def test_forged_signatures_spend_their_address_not_the_named_host(env: Env) -> None:
    # Signed with a's key but naming b's keyId: the claim says b, the signature fails.
    naming_b = SigningKey(env.b.rsa_key_id, env.a.rsa)
    inbox = f"{env.node.url}/inbox"
    forged = [env.b.signed_post(inbox, env.b.create(), key=naming_b) for _ in range(BURST + 2)]
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as elsewhere:
        answers = [await send(elsewhere, req) for req in forged]
    assert [a[0] for a in answers] == [401] * BURST + [429] * 2
    assert_throttled(*answers[-1])
    assert "failed signatures from 127.0.0.2" in answers[-1][2]["detail"]
    # b's own allowance is whole: its full burst is accepted.
    assert [(await post(env.session, r))[0] for r in env.creates(env.b, BURST)] == [202] * BURST


async def test_signed_gets_have_their_own_limit(env: Env) -> None:
    url = f"{env.node.url}/actor/outbox"

    async def signed_get(peer: Peer) -> tuple[int, str, Any, str | None]:
        headers = sign_cavage("GET", url, {}, None, peer.signing_key(), time.time())
        async with env.session.get(url, headers=headers) as resp:
            text = await resp.text()
            body = json.loads(text) if resp.content_type.endswith("json") else text
            return resp.status, resp.content_type, body, resp.headers.get("Retry-After")

    assert [(await signed_get(env.a))[0] for _ in range(BURST)] == [200] * BURST
    assert_throttled(*await signed_get(env.a))
    assert (await signed_get(env.b))[0] == 200
    # The inbox is another table: a is still within its inbox burst.
    [create] = env.creates(env.a, 1)
    assert (await post(env.session, create))[0] == 202
