"""What the Fedify-server interop tests share: our gateway's side (admin API, reference backend,
job store) and how to read the Fedify server's record of the wire (tests/support/fedify_server.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from federation.jobs.kinds import JobKind
from federation.records import JobState
from tests.integration.test_federation_flow import call
from tests.support.cluster import until
from tests.support.fedify_server import FEDIFY_DIR, FedifyServer, running_fedify
from tests.support.inproc import Running, running, settings_for

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
FEDIFY_VERSION = json.loads((FEDIFY_DIR / "package.json").read_text())["dependencies"][
    "@fedify/fedify"
]


@asynccontextmanager
async def gateway_and_fedify(
    tmp: Path, *flags: str, **running_options: Any
) -> AsyncIterator[tuple[Running, FedifyServer]]:
    """Our gateway "alpha" (open mode, http on 127.0.0.1) and a Fedify server started with
    `flags` (tests/interop/fedify/server.mjs)."""
    async with (
        running(settings_for(tmp, "alpha"), **running_options) as alpha,
        running_fedify(tmp, *flags) as fedify,
    ):
        yield alpha, fedify


# -- our side ----------------------------------------------------------------------------------


async def admin(node: Running, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {node.settings.admin_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{node.url}/admin/api{path}", json=body, headers=headers) as r,
    ):
        assert r.status < 300, f"{method} {path}: {r.status} {await r.text()}"
        return await r.json()


async def get_json(url: str, accept: str = "application/json") -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": accept}) as resp,
    ):
        assert resp.status == 200, url
        return await resp.json(content_type=None)


async def relation(node: Running, which: str, actor: str) -> str | None:
    """The state of our follow ("following") or follower ("followers") relation with actor."""
    listed = await admin(node, "GET", f"/{which}")
    states = {item["actor"]: item["state"] for item in listed["items"]}
    return states.get(actor)


async def until_relation(node: Running, which: str, actor: str, wanted: str) -> None:
    async def reached() -> bool:
        return await relation(node, which, actor) == wanted

    await until(reached, f"{node.url} {which} {actor}: {wanted}")


async def create_block(node: Running, title: str, visibility: str = "public") -> str:
    block = {"title": title, "content": f"{title}, written on our side", "visibility": visibility}
    created = await call(node, "POST", "/api/v1/blocks", block)
    return str(created["id"])


def block_url(node: Running, block_id: str) -> str:
    return f"{node.url}/blocks/{block_id}"


async def jobs_of(node: Running, kind: JobKind, state: JobState) -> list[Any]:
    return [j for j in await node.instance.store.list_jobs(state, None, 10_000) if j.kind == kind]


# -- the Fedify side ---------------------------------------------------------------------------


def received(state: dict[str, Any], kind: str, actor: str) -> list[dict[str, Any]]:
    """Activities of `kind` by `actor` that Fedify verified and passed to its listeners."""
    return [r for r in state["received"] if r["type"] == kind and r["actor"] == actor]


def inbound_of(state: dict[str, Any], activity_id: str) -> list[dict[str, Any]]:
    """Every POST of that activity to Fedify's inboxes, in order, with Fedify's answer."""
    return [e for e in state["inbound"] if _body_id(e["body"]) == activity_id]


def outbound_to(state: dict[str, Any], node: Running, kind: str) -> list[dict[str, Any]]:
    """Fedify's POSTs of activities of `kind` to our gateway, in order, with our answer."""
    return [
        e
        for e in state["outbound"]
        if e["method"] == "POST"
        and e["url"].startswith(node.url + "/")
        and json.loads(e["body"]).get("type") == kind
    ]


def _body_id(body: str) -> str | None:
    try:
        return json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None


def verified_by_fedify(entry: dict[str, Any], node: Running) -> bool:
    """Fedify's own verifiers, each on its own, on what our gateway sent."""
    checks = entry["checks"]
    return (
        checks is not None
        and checks.get("httpSignature") == f"{node.url}/actor#main-key"
        and checks.get("proof") is True
    )


async def fedify_follows(fedify: FedifyServer, node: Running) -> None:
    """Fedify follows our gateway and has our Accept: the common first step."""
    await fedify.follow(f"{node.url}/actor")
    await fedify.until(
        lambda s: s["following"].get(f"{node.url}/actor", {}).get("state") == "accepted",
        "our Accept",
    )


async def we_follow(node: Running, fedify: FedifyServer) -> None:
    await admin(node, "POST", "/following", {"target": fedify.actor})
    await until_relation(node, "following", fedify.actor, "accepted")


async def until_verified(
    fedify: FedifyServer, node: Running, kind: str, object_id: str
) -> dict[str, Any]:
    """Fedify took our `kind` of `object_id` (so verified it), and its own verifiers, each on
    its own, hold on what it got: our HTTP signature and our proof."""

    def verified(state: dict[str, Any]) -> dict[str, Any] | None:
        for activity in received(state, kind, f"{node.url}/actor"):
            if activity["objectId"] == object_id:
                posts = inbound_of(state, activity["id"])
                if posts and all(p["checks"] for p in posts):
                    assert [p["status"] for p in posts] == [202], posts
                    assert verified_by_fedify(posts[0], node), posts[0]
                    return activity
        return None

    return await fedify.until(verified, f"{kind} of {object_id}, verified")


VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "fedify_server"


async def record_vector(name: str, fedify: FedifyServer, body: str, how: str) -> None:
    """Keep what Fedify sent, with the actor document holding its keys, as a test vector
    (only when FEDIFY_RECORD_VECTORS=1: tests/vectors/fedify_server/README.md)."""
    if os.environ.get("FEDIFY_RECORD_VECTORS") != "1":
        return
    vector = {
        "recorded": {"by": "tests/interop/fedify/server.mjs", "fedify": FEDIFY_VERSION, "how": how},
        "actor": await get_json(fedify.actor, accept="application/activity+json"),
        "activity": json.loads(body),
        "body": body,
    }
    VECTORS.mkdir(exist_ok=True)
    (VECTORS / name).write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n")
