"""The Create of a block has one id: the one a follower receives is the one the outbox lists,
and a block public again after a withdrawal goes out under a new one, which the follower (one
of our gateways, deduplicating inbound activities by id) takes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from federation.jobs.kinds import InboxPayload, JobKind, payload_of
from federation.records import Direction, FollowState
from tests.integration.test_federation_flow import _jobs, call, remote_blocks
from tests.support.cluster import http_json, until
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration

NOTE = {"kind": "note", "title": "t", "content": "c", "author": "ann", "visibility": "public"}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Running, Running]]:
    async with (
        running(settings_for(tmp_path, "alpha")) as alpha,
        running(settings_for(tmp_path, "beta")) as beta,
    ):
        await beta.follow(alpha)
        await until(lambda: _accepted(beta, alpha))
        yield alpha, beta


async def _accepted(node: Running, target: Running) -> bool:
    return await node.has_relation(Direction.FOLLOWING, target, FollowState.ACCEPTED)


async def _creates_received(node: Running, object_id: str) -> list[str]:
    """Ids of the Creates of `object_id` that reached `node`'s inbox, oldest first."""
    jobs = sorted(await _jobs(node), key=lambda job: job.created_at)
    activities = [payload_of(j, InboxPayload).activity for j in jobs if j.kind == JobKind.INBOX]
    return [a["id"] for a in activities if a["type"] == "Create" and a["object"]["id"] == object_id]


async def _outbox_create(node: Running, object_id: str) -> str:
    url = f"{node.url}/actor/outbox?page=first"
    page = await asyncio.to_thread(http_json, "GET", url, None)
    (item,) = [i for i in page["orderedItems"] if i["object"]["id"] == object_id]
    assert item["type"] == "Create"
    return str(item["id"])


async def _holds(node: Running, urn: str, present: bool) -> bool:
    return (urn in await remote_blocks(node)) is present


async def test_the_follower_gets_the_create_the_outbox_lists_and_a_new_one_later(
    pair: Any,
) -> None:
    alpha, beta = pair
    block = await call(alpha, "POST", "/api/v1/blocks", NOTE)
    urn = f"urn:block:{alpha.settings.domain}:{block['id']}"
    object_id = f"{alpha.url}/blocks/{block['id']}"
    await until(lambda: _holds(beta, urn, present=True))
    first = await until(lambda: _creates_received(beta, object_id))
    assert first == [f"{object_id}#create-1"]
    assert await _outbox_create(alpha, object_id) == first[0]

    # Withdrawn (a Delete goes out), then public again: a Create id beta has not seen, which
    # it takes (its inbox drops an id it saw), and the outbox lists that one now.
    await call(alpha, "PATCH", f"/api/v1/blocks/{block['id']}", {"visibility": "private"})
    await until(lambda: _holds(beta, urn, present=False))
    await call(alpha, "PATCH", f"/api/v1/blocks/{block['id']}", {"visibility": "public"})
    await until(lambda: _holds(beta, urn, present=True))
    both = await _creates_received(beta, object_id)
    assert both == [f"{object_id}#create-1", f"{object_id}#create-2"]
    assert await _outbox_create(alpha, object_id) == both[1]


def _as_before_publications(path: str, block_id: str) -> None:
    """The store as a gateway before publication records left it: the `published:` marker in
    the activity log, schema version 9."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE publications")
        conn.execute("INSERT INTO activities VALUES (?, x'31', 1.0)", [f"published:{block_id}"])
        conn.execute("PRAGMA user_version = 9")


async def test_an_upgraded_gateway_keeps_what_it_published(tmp_path: Path) -> None:
    alpha_settings = settings_for(tmp_path, "alpha")
    async with running(settings_for(tmp_path, "beta")) as beta:
        async with running(alpha_settings) as alpha:
            await beta.follow(alpha)
            await until(lambda: _accepted(beta, alpha))
            block = await call(alpha, "POST", "/api/v1/blocks", NOTE)
            urn = f"urn:block:{alpha.settings.domain}:{block['id']}"
            await until(lambda: _holds(beta, urn, present=True))
        _as_before_publications(alpha_settings.store, block["id"])
        async with running(alpha_settings) as alpha:
            # Published once, the marker said: leaving owes beta a Delete...
            await call(alpha, "PATCH", f"/api/v1/blocks/{block['id']}", {"visibility": "private"})
            await until(lambda: _holds(beta, urn, present=False))
            # ...and public again is the second generation, a Create beta has not seen.
            await call(alpha, "PATCH", f"/api/v1/blocks/{block['id']}", {"visibility": "public"})
            await until(lambda: _holds(beta, urn, present=True))
            object_id = f"{alpha.url}/blocks/{block['id']}"
            assert (await _creates_received(beta, object_id))[-1] == f"{object_id}#create-2"
