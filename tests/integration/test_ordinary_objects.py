"""Ordinary ActivityPub objects from a peer we follow are ignored, never failures.

A Mastodon-like peer sends plain Create(Note)s whose ids are not block URLs; a knowledge base has
no use for them. They must settle as done (not dead, not listed as failed deliveries), while a
block-shaped object that fails validation is still an error.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.records import Direction, Job, JobState
from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, post, serve_peer
from tests.support.records import accepted_follow

pytestmark = pytest.mark.integration


@dataclass
class Env:
    node: Running
    peer: Peer
    session: aiohttp.ClientSession
    backend_hits: Counter[str]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    hits: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        hits[f"{request.method} {request.path}"] += 1
        response: web.StreamResponse = await handler(request)
        return response

    async with (
        running(settings_for(tmp_path, "gw"), backend_middlewares=[count]) as node,
        serve_peer(rsa_index=0) as peer,
        aiohttp.ClientSession() as session,
    ):
        following = accepted_follow(
            peer.actor, direction=Direction.FOLLOWING, follow_id=f"{node.url}/follows/1", at=1
        )
        await node.instance.store.put_follow(following)
        yield Env(node, peer, session, hits)


async def settled(env: Env, activity_id: str, timeout: float = 20.0) -> Job:
    """Wait for the inbox job of `activity_id` to leave the queue; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for state in (JobState.DONE, JobState.DEAD):
            for job in await env.node.instance.store.list_jobs(state, limit=1000):
                if job.dedupe_key == f"inbox:{activity_id}":
                    return job
        assert asyncio.get_running_loop().time() < deadline, f"{activity_id} never settled"
        await asyncio.sleep(0.05)


async def send(env: Env, activity: dict[str, object]) -> None:
    got, _, body = await post(env.session, env.peer.signed_post(f"{env.node.url}/inbox", activity))
    assert got == 202, body


async def test_a_plain_note_from_a_followed_peer_is_done_not_dead(env: Env) -> None:
    note = env.peer.note(object_id=f"{env.peer.origin}/users/ann/statuses/1")
    plain = env.peer.create(note)
    await send(env, plain)
    job = await settled(env, plain["id"])
    assert job.state is JobState.DONE, job.last_error
    assert await env.node.instance.store.list_jobs(JobState.DEAD) == []


def plain_activities(peer: Peer) -> list[dict[str, Any]]:
    """What a followed Mastodon-like server sends besides Notes, each as it really shapes it."""
    status = f"{peer.origin}/users/ann/statuses/2"
    question = {**peer.note(object_id=f"{peer.origin}/users/ann/statuses/3"), "type": "Question"}
    question["oneOf"] = [{"type": "Note", "name": "yes"}, {"type": "Note", "name": "no"}]
    person = {"id": peer.actor, "type": "Person", "inbox": f"{peer.actor}/inbox", "name": "Ann"}
    return [
        {**peer.create(), "type": "Like", "object": status},
        {**peer.create(), "type": "Announce", "object": status},
        peer.create(question),
        {**peer.create(), "type": "Update", "object": person},  # an actor's profile edit
        {**peer.create(), "object": status},  # a Create naming its object by URL only
        peer.delete(status),  # a deleted status: not a block
        {**peer.create(), "type": ["Add", "Activity"], "object": status, "target": peer.actor},
    ]


async def test_plain_activities_are_accepted_and_settle_as_done_with_no_notification(
    env: Env,
) -> None:
    sent = plain_activities(env.peer)
    for activity in sent:
        await send(env, activity)
    for activity in sent:
        job = await settled(env, activity["id"])
        assert job.state is JobState.DONE, (activity["type"], job.last_error)
    assert await env.node.instance.store.list_jobs(JobState.DEAD) == []
    assert env.backend_hits["POST /api/v1/inbound"] == 0


async def test_a_block_shaped_object_that_fails_validation_is_still_an_error(env: Env) -> None:
    broken = env.peer.note()  # a block URL on the peer's origin...
    broken["to"] = []  # ...but not public: a block we must not accept
    activity = env.peer.create(broken)
    await send(env, activity)
    job = await settled(env, activity["id"])
    assert job.state is JobState.DEAD
    assert job.last_error is not None and "public" in job.last_error
