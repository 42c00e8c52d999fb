"""The inbound limiter's parts that need no HTTP (web/backpressure.py): the keyId glance that
keys a request before any verification, and the per-peer lane that lets one peer have at most
`peer_concurrency` requests inside the pipeline while another peer's go straight in."""

from __future__ import annotations

import asyncio
import time

from federation.config import Limits
from federation.signatures import SigningKey, sign_cavage, sign_rfc9421
from federation.web.backpressure import Backpressure, claimed_key_id
from tests.support.signing import ED, KEY_ID

URL = "https://gw.example/inbox"


def test_the_claimed_key_id_is_read_from_either_scheme() -> None:
    key = SigningKey(KEY_ID, ED)
    cavage = sign_cavage("POST", URL, {}, b"{}", key, time.time())
    assert claimed_key_id(cavage) == KEY_ID
    rfc9421 = sign_rfc9421("POST", URL, {}, b"{}", key, time.time())
    assert claimed_key_id(rfc9421) == KEY_ID
    assert claimed_key_id({}) is None
    assert claimed_key_id({"Signature": "garbage"}) is None


def test_the_claimed_host_is_the_key_urls() -> None:
    state = Backpressure(Limits(), time.time)
    assert state.claimed_signer({"Signature": f'keyId="{KEY_ID}",signature="x"'}) == (
        "alpha.example"
    )
    assert state.claimed_signer({"Signature": 'keyId="not a url",signature="x"'}) is None


async def test_one_peer_waits_its_turn_while_another_goes_in() -> None:
    state = Backpressure(Limits(peer_concurrency=2), time.time)
    release, other_inside = asyncio.Event(), asyncio.Event()
    inside = most = 0

    async def busy_peer() -> None:
        nonlocal inside, most
        async with state.lane("busy.example"):
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    async def other_peer() -> None:
        async with state.lane("other.example"):
            other_inside.set()

    tasks = [asyncio.create_task(busy_peer()) for _ in range(5)]
    tasks.append(asyncio.create_task(other_peer()))
    await other_inside.wait()  # every task has had its turn to enter by now (FIFO)
    assert most == 2
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2 and inside == 0
