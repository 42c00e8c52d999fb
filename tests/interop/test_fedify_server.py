"""Our gateway against a real Fedify server (tests/interop/fedify/server.mjs), both directions.

The Fedify side is a server made with createFederation as Fedify's manual shows it (an actor
with an RSA and an Ed25519 key pair, inbox listeners, a followers collection, WebFinger), so
every message carries what Fedify really puts on the wire: an RFC 9421 first knock (cavage on
refusal), an FEP-8b32 proof by the Ed25519 key and then a Linked Data signature by the RSA key.
Fedify hands an activity to its inbox listeners only once it has verified it; what crossed the
wire is recorded by the server and read through its control API (tests/support/fedify_server.py).
Every wait is a positive barrier: polling for the state to appear, with a deadline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.jobs.kinds import InboxPayload, JobKind, payload_of
from federation.records import JobState
from tests.integration.test_federation_flow import call, wait_for
from tests.support.fedify_server import FedifyServer, running_fedify
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


# -- our side ----------------------------------------------------------------------------------


async def admin(node: Running, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {node.settings.admin_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{node.url}/admin/api{path}", json=body, headers=headers) as r,
    ):
        assert r.status < 300, f"{method} {path}: {r.status} {await r.text()}"
        return await r.json()


async def relation(node: Running, which: str, actor: str) -> str | None:
    """The state of our follow ("following") or follower ("followers") relation with actor."""
    listed = await admin(node, "GET", f"/{which}")
    states = {item["actor"]: item["state"] for item in listed["items"]}
    return states.get(actor)


async def until_relation(node: Running, which: str, actor: str, wanted: str) -> None:
    async def reached() -> bool:
        return await relation(node, which, actor) == wanted

    await wait_for(reached, timeout=30)


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


# -- follows -----------------------------------------------------------------------------------


async def test_fedify_follows_us_and_verifies_our_accept(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, "alpha")) as alpha, running_fedify(tmp_path) as fedify:
        await fedify.follow(f"{alpha.url}/actor")

        accepts = await fedify.until(lambda s: received(s, "Accept", f"{alpha.url}/actor"), "Accept")
        state = await fedify.state()
        assert state["following"][f"{alpha.url}/actor"]["state"] == "accepted"
        # Fedify's Follow was taken by us at the first knock, and we hold Fedify as a follower.
        [follow] = outbound_to(state, alpha, "Follow")
        assert follow["status"] == 202, follow
        await until_relation(alpha, "followers", fedify.actor, "accepted")
        # Our Accept holds by Fedify's own verifiers: HTTP signature and proof alike.
        [sent] = await fedify.until(
            lambda s: [e for e in inbound_of(s, accepts[0]["id"]) if e["checks"]], "the checks"
        )
        assert sent["status"] == 202 and verified_by_fedify(sent, alpha), sent


async def test_we_follow_fedify_and_it_accepts(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, "alpha")) as alpha, running_fedify(tmp_path) as fedify:
        await admin(alpha, "POST", "/following", {"target": fedify.actor})

        await until_relation(alpha, "following", fedify.actor, "accepted")
        state = await fedify.state()
        assert f"{alpha.url}/actor" in state["followers"]
        [follow] = received(state, "Follow", f"{alpha.url}/actor")
        [delivered] = [e for e in inbound_of(state, follow["id"]) if e["status"] == 202]
        # Fedify's Accept was taken at the first knock (RFC 9421), with its proof and LD signature.
        [accept] = outbound_to(state, alpha, "Accept")
        assert accept["status"] == 202 and accept["scheme"] == "rfc9421", accept
        body = json.loads(accept["body"])
        assert "proof" in body and body["signature"]["type"] == "RsaSignature2017"
