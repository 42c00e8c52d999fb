"""A real Prometheus scrapes two real gateways through a federation flow in which one receiver
refuses every delivery; its HTTP API then shows exactly the deliveries made and refused.

beta follows alpha (beta delivers the Follow, alpha the Accept); a peer that answers 403 to
every POST also follows alpha. alpha then publishes BLOCKS public blocks: each reaches beta and
is refused, for good, by the peer. So alpha sent BLOCKS + 1 and gave up BLOCKS; beta sent 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from federation.records import Direction, FollowState
from tests.support.cluster import http_json, until
from tests.support.inproc import Running, running, settings_for
from tests.support.prometheus import prometheus
from tests.support.receivers import Peer, status
from tests.support.records import accepted_follow

pytestmark = pytest.mark.integration

TOKEN = "scrape-token"
BLOCKS = 3
SENT = "sum by (instance) (activitypub_delivery_sent_total)"
FAILED = "sum by (instance) (activitypub_delivery_permanent_failure_total)"


@pytest.fixture
def refusing_peer() -> Any:
    peer = Peer()
    peer.behave(status(403))  # a permanent refusal: each delivery is given up at once
    yield peer
    peer.close()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Running, Running]]:
    async with (
        running(settings_for(tmp_path, "alpha", metrics_token=TOKEN)) as alpha,
        running(settings_for(tmp_path, "beta", metrics_token=TOKEN)) as beta,
    ):
        yield alpha, beta


async def publish(node: Running, title: str) -> None:
    block = {"kind": "note", "title": title, "content": "c", "author": "a", "visibility": "public"}
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}/api/v1/blocks"
    token = node.settings.backend_token
    await asyncio.to_thread(http_json, "POST", url, block, token=token)


async def queue_idle(node: Running) -> bool:
    """Nothing queued (running or waiting): every delivery so far has been settled."""
    depth = await node.instance.store.queue_depth()
    return not any(state == "queued" for _, state in depth)


async def test_prometheus_sees_exactly_the_deliveries_made_and_refused(
    tmp_path: Path, pair: tuple[Running, Running], refusing_peer: Peer
) -> None:
    alpha, beta = pair
    targets = [alpha.settings.domain, beta.settings.domain]
    with prometheus(tmp_path / "prometheus", targets, TOKEN) as prom:
        await until(lambda: asyncio.to_thread(lambda: prom.targets_up() == set(targets)))

        await beta.follow(alpha)
        await alpha.instance.store.put_follow(accepted_follow(refusing_peer.actor()))
        await until(lambda: beta.has_relation(Direction.FOLLOWING, alpha, FollowState.ACCEPTED))
        await until(lambda: queue_idle(alpha))  # the Accept and the (empty) backfill

        for n in range(BLOCKS):
            await publish(alpha, f"block {n}")
        await until(lambda: asyncio.to_thread(lambda: len(refusing_peer.hits()) == BLOCKS))
        await until(lambda: _remote_blocks(beta, BLOCKS))
        await until(lambda: queue_idle(alpha))

        a, b = alpha.settings.domain, beta.settings.domain
        assert await prom.wait_for(SENT, {a: BLOCKS + 1, b: 1}) == {a: BLOCKS + 1, b: 1}
        assert await prom.wait_for(FAILED, {a: BLOCKS}) == {a: BLOCKS}
        # The refusal was counted under the peer's host with its reason; no raw URL anywhere.
        by_reason = prom.query(
            "sum by (instance, activitypub_remote_host, activitypub_delivery_failure_reason)"
            " (activitypub_delivery_permanent_failure_total)"
        )
        assert by_reason == {a: BLOCKS}
        labels = prom.query(
            "count(activitypub_delivery_permanent_failure_total{activitypub_"
            f'remote_host="{refusing_peer.host}",'
            'activitypub_delivery_failure_reason="refused"})'
        )
        assert labels == {"": 1}


async def _remote_blocks(node: Running, count: int) -> bool:
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}/api/v1/remote-blocks"
    token = node.settings.backend_token
    data = await asyncio.to_thread(http_json, "GET", url, token=token)
    return len(data["items"]) == count
