"""Follows that end without a handshake, and follows that may never start, between real
instances (gateway + reference backend each) on 127.0.0.1: every ending reaches the backend,
through the follow state machine like every other change."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.activities import AS_MEDIA_TYPE
from federation.backend.contract import InboundNotification
from federation.jobs.kinds import JobKind, payload_of
from federation.records import Direction, FollowState, JobState
from tests.support.cluster import until
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration


class InboxGone:
    """A peer whose inboxes answer 410 Gone once `gone` is set (its `middleware`)."""

    def __init__(self) -> None:
        self.gone = False
        self.answered = 0

        @web.middleware
        async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
            if self.gone and request.method == "POST" and request.path.endswith("inbox"):
                self.answered += 1
                return web.Response(status=410)
            response: web.StreamResponse = await handler(request)
            return response

        self.middleware = middleware


async def backend_call(node: Running, method: str, path: str, body: Any = None) -> Any:
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}{path}"
    auth = {"Authorization": f"Bearer {node.settings.backend_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=auth) as resp,
    ):
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def backend_follows(node: Running) -> dict[str, tuple[str, str]]:
    """What the node's backend was told: actor -> (direction, state) of the last change."""
    data = await backend_call(node, "GET", "/api/v1/follows")
    return {f["actor"]: (f["direction"], f["state"]) for f in data["items"]}


async def admin(node: Running, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    auth = {"Authorization": f"Bearer {node.settings.admin_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{node.url}/admin/api{path}", json=body, headers=auth) as resp,
    ):
        return resp.status, json.loads(await resp.read() or b"null")


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Running, Running, InboxGone]]:
    gone = InboxGone()
    async with (
        running(settings_for(tmp_path, "alpha")) as alpha,
        running(settings_for(tmp_path, "beta"), middlewares=[gone.middleware]) as beta,
    ):
        yield alpha, beta, gone


async def test_a_follower_whose_inbox_answers_410_is_removed_and_the_backend_told(
    pair: tuple[Running, Running, InboxGone],
) -> None:
    alpha, beta, gone = pair
    beta_actor = f"{beta.url}/actor"
    await beta.follow(alpha)
    accepted = (Direction.FOLLOWER.value, FollowState.ACCEPTED.value)
    await until(lambda: _told(alpha, beta_actor, accepted))

    gone.gone = True
    await backend_call(alpha, "POST", "/api/v1/blocks", {"title": "t", "visibility": "public"})
    undone = (Direction.FOLLOWER.value, FollowState.UNDONE.value)
    await until(lambda: _told(alpha, beta_actor, undone))
    assert await alpha.relation(Direction.FOLLOWER, beta) is FollowState.UNDONE
    assert gone.answered >= 1
    _, followers = await admin(alpha, "GET", "/followers?state=accepted")
    assert followers["items"] == []


async def test_a_domain_block_drops_follows_and_the_backend_is_told(
    pair: tuple[Running, Running, InboxGone],
) -> None:
    alpha, beta, _ = pair
    beta_actor = f"{beta.url}/actor"
    await beta.follow(alpha)
    await alpha.follow(beta)
    await until(lambda: alpha.has_relation(Direction.FOLLOWER, beta, FollowState.ACCEPTED))
    await until(lambda: alpha.has_relation(Direction.FOLLOWING, beta, FollowState.ACCEPTED))

    status, result = await admin(
        alpha, "POST", "/blocks", {"domain": beta.settings.domain, "reason": "test"}
    )
    assert status == 201 and result["follows_dropped"] == 2
    for direction in Direction:
        assert await alpha.instance.store.get_follow(direction, beta_actor) is None
    # Both endings were handed to the backend (a done "backend" job is one it answered 2xx)...
    both = {("follower", "undone"), ("following", "undone")}
    await until(lambda: _delivered_reports(alpha, beta_actor, both))
    # ...which keeps the last change per actor: whichever came last says "undone".
    assert (await backend_follows(alpha))[beta_actor][1] == "undone"


async def test_an_instance_cannot_follow_itself_on_any_path(
    pair: tuple[Running, Running, InboxGone],
) -> None:
    alpha, _, _ = pair
    own = alpha.settings.domain
    for target in (own, f"{alpha.url}/actor", f"acct:alpha@{own}"):
        status, problem = await admin(alpha, "POST", "/following", {"target": target})
        assert status == 422, (target, problem)
        assert problem["title"] == "Cannot follow target"
        assert problem["detail"] == f"{own} is this instance; an instance cannot follow itself"
    # An inbound Follow whose actor is our own: refused before any signature work.
    ours = f"{alpha.url}/actor"
    activity = {"id": f"{ours}#f", "type": "Follow", "actor": ours, "object": ours}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{alpha.url}/actor/inbox",
            data=json.dumps(activity),
            headers={"Content-Type": AS_MEDIA_TYPE},
        ) as resp,
    ):
        assert resp.status == 422
        assert resp.content_type == "application/problem+json"
        assert "an instance cannot follow itself" in (await resp.json())["detail"]
    for direction in Direction:
        assert await alpha.instance.store.list_follows(direction) == []
    status, _ = await admin(alpha, "GET", "/following")
    assert status == 200  # still serving


async def _told(node: Running, actor: str, want: tuple[str, str]) -> bool:
    return (await backend_follows(node)).get(actor) == want


async def _delivered_reports(node: Running, actor: str, want: set[tuple[str, str]]) -> bool:
    done = await node.instance.store.list_jobs(JobState.DONE, None, 1000)
    notices = [payload_of(j, InboundNotification) for j in done if j.kind == JobKind.BACKEND]
    told = {
        (n.follow.direction, n.follow.state)
        for n in notices
        if n.follow and n.follow.actor == actor
    }
    return want <= told
