"""End to end: three real instances (gateway + reference backend each) on 127.0.0.1.

alpha and beta accept follows automatically, gamma requires approval. Follows are started through
the gateways' own services (the admin API has its own tests); everything else is real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from federation.jobs.kinds import DeliverPayload, EventPayload, JobKind, payload_of
from federation.records import Direction, FollowState, Job, JobState
from tests.support.cluster import http_json, until
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration


async def call(node: Running, method: str, path: str, body: Any = None) -> Any:
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}{path}"
    return await asyncio.to_thread(http_json, method, url, body, token=node.settings.backend_token)


async def remote_blocks(node: Running) -> dict[str, dict[str, Any]]:
    data = await call(node, "GET", "/api/v1/remote-blocks")
    return {b["urn"]: b for b in data["items"]}


async def _jobs(node: Running) -> list[Job]:
    store = node.instance.store
    return [job for state in JobState for job in await store.list_jobs(state, None, 10_000)]


async def _event_done(node: Running, block_id: str) -> bool:
    """Whether `node` has finished handling a backend event about block `block_id`."""
    return any(
        job.kind == JobKind.EVENT
        and job.state is JobState.DONE
        and payload_of(job, EventPayload).block_id == block_id
        for job in await _jobs(node)
    )


async def _deliveries_to(node: Running, other: Running) -> set[str]:
    """The dedupe keys of `node`'s delivery jobs (any state) to an inbox of `other`."""
    return {
        job.dedupe_key
        for job in await _jobs(node)
        if job.kind == JobKind.DELIVER
        and payload_of(job, DeliverPayload).inbox.startswith(f"{other.url}/")
    }


@pytest.fixture
async def trio(tmp_path: Path) -> AsyncIterator[tuple[Running, Running, Running]]:
    alpha = settings_for(tmp_path, "alpha")
    beta = settings_for(tmp_path, "beta")
    gamma = settings_for(tmp_path, "gamma", mode="approval")
    async with running(alpha) as a, running(beta) as b, running(gamma) as g:
        yield a, b, g


async def test_public_blocks_flow_to_followers_and_private_ones_never_leave(trio: Any) -> None:
    alpha, beta, gamma = trio
    await beta.follow(alpha)
    await gamma.follow(alpha)
    await alpha.follow(gamma)
    await until(lambda: beta.has_relation(Direction.FOLLOWING, alpha, FollowState.ACCEPTED))
    await until(lambda: gamma.has_relation(Direction.FOLLOWING, alpha, FollowState.ACCEPTED))
    # gamma requires approval: alpha's follow waits on both sides.
    await until(lambda: gamma.has_relation(Direction.FOLLOWER, alpha, FollowState.PENDING))
    assert await alpha.relation(Direction.FOLLOWING, gamma) is FollowState.PENDING

    public = await call(
        alpha,
        "POST",
        "/api/v1/blocks",
        {
            "kind": "note",
            "title": "hello",
            "content": "world",
            "author": "ann",
            "visibility": "public",
        },
    )
    private = await call(
        alpha,
        "POST",
        "/api/v1/blocks",
        {
            "kind": "note",
            "title": "secret",
            "content": "x",
            "author": "ann",
            "visibility": "private",
        },
    )
    urn = f"urn:block:{alpha.settings.domain}:{public['id']}"
    secret_urn = f"urn:block:{alpha.settings.domain}:{private['id']}"
    for receiver in (beta, gamma):
        got = await until(partial(_has, receiver, urn))
        assert got["title"] == "hello" and got["content"] == "world"

    # A block on gamma does not reach alpha while alpha's follow is pending...
    sent_to_alpha = await _deliveries_to(gamma, alpha)  # gamma's Follow, so far
    g_block = await call(
        gamma,
        "POST",
        "/api/v1/blocks",
        {
            "kind": "note",
            "title": "from gamma",
            "content": "g",
            "author": "gus",
            "visibility": "public",
        },
    )
    g_urn = f"urn:block:{gamma.settings.domain}:{g_block['id']}"
    # The barrier: gamma has handled the block's event, so its fan-out is queued; a delivery to
    # alpha would be among gamma's jobs.
    await until(lambda: _event_done(gamma, g_block["id"]))
    assert await _deliveries_to(gamma, alpha) == sent_to_alpha
    assert g_urn not in await remote_blocks(alpha)
    # ...and does once gamma's admin approves (the backfill carries the existing block).
    await gamma.instance.follows.approve(f"{alpha.url}/actor")
    await until(lambda: alpha.has_relation(Direction.FOLLOWING, gamma, FollowState.ACCEPTED))
    await until(lambda: _has(alpha, g_urn))

    # An edit arrives as Update, a delete as Delete.
    await call(alpha, "PATCH", f"/api/v1/blocks/{public['id']}", {"content": "edited"})
    for receiver in (beta, gamma):
        await until(partial(_content_is, receiver, urn, "edited"))
    await call(alpha, "DELETE", f"/api/v1/blocks/{public['id']}")
    for receiver in (beta, gamma):
        await until(partial(_gone, receiver, urn))

    # The private block never left: not at the receivers, not in any activity alpha sent.
    for receiver in (beta, gamma):
        assert secret_urn not in await remote_blocks(receiver)
    assert not await _sent_anything_about(alpha, private["id"])

    # An unfollow stops the flow.
    await beta.instance.follows.unfollow(f"{alpha.url}/actor")
    await until(lambda: alpha.has_relation(Direction.FOLLOWER, beta, FollowState.UNDONE))
    later = await call(
        alpha,
        "POST",
        "/api/v1/blocks",
        {"kind": "note", "title": "later", "content": "l", "author": "ann", "visibility": "public"},
    )
    later_urn = f"urn:block:{alpha.settings.domain}:{later['id']}"
    await until(lambda: _has(gamma, later_urn))
    assert later_urn not in await remote_blocks(beta)


async def _has(node: Running, urn: str) -> dict[str, Any] | None:
    return (await remote_blocks(node)).get(urn)


async def _content_is(node: Running, urn: str, content: str) -> bool:
    block = (await remote_blocks(node)).get(urn)
    return block is not None and block["content"] == content


async def _gone(node: Running, urn: str) -> bool:
    return urn not in await remote_blocks(node)


async def _sent_anything_about(node: Running, block_id: str) -> bool:
    """Scan every activity the gateway stored for sending (the bytes that go on the wire)."""
    store: Any = node.instance.store
    rows = store._db.execute("SELECT body FROM activities").fetchall()
    assert rows, "the gateway stored no activities at all"
    return any(block_id in (r[0] if isinstance(r[0], str) else r[0].decode()) for r in rows)


async def test_followers_and_following_collections(trio: Any) -> None:
    alpha, beta, _ = trio
    await beta.follow(alpha)
    await until(lambda: alpha.has_relation(Direction.FOLLOWER, beta, FollowState.ACCEPTED))
    # beta's side turns accepted only when alpha's Accept arrives, a moment later
    await until(lambda: beta.has_relation(Direction.FOLLOWING, alpha, FollowState.ACCEPTED))
    followers = await asyncio.to_thread(
        http_json,
        "GET",
        f"{alpha.url}/actor/followers",
        headers={"Accept": "application/activity+json"},
    )
    assert followers["type"] == "OrderedCollection"
    assert followers["orderedItems"] == [f"{beta.url}/actor"]
    following = await asyncio.to_thread(http_json, "GET", f"{beta.url}/actor/following")
    assert following["orderedItems"] == [f"{alpha.url}/actor"]


async def test_follow_changes_reach_both_backends(trio: Any) -> None:
    alpha, beta, _ = trio
    await beta.follow(alpha)

    async def reported(node: Running, actor: str, direction: str) -> bool:
        data = await call(node, "GET", "/api/v1/follows")
        items = data["items"] if isinstance(data, dict) else data
        return any(
            f["actor"] == actor and f["direction"] == direction and f["state"] == "accepted"
            for f in items
        )

    await until(lambda: reported(alpha, f"{beta.url}/actor", "follower"))
    await until(lambda: reported(beta, f"{alpha.url}/actor", "following"))
