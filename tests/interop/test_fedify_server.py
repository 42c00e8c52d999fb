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
from tests.integration.test_federation_flow import call
from tests.support.cluster import until
from tests.support.fedify_flows import (
    AS_CONTEXT,
    admin,
    block_url,
    create_block,
    fedify_follows,
    gateway_and_fedify,
    get_json,
    jobs_of,
    outbound_to,
    received,
    record_vector,
    until_relation,
    until_verified,
    we_follow,
)

pytestmark = pytest.mark.integration


# -- follows -----------------------------------------------------------------------------------


async def test_fedify_follows_us_and_verifies_our_accept(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        follow_id = await fedify.follow(f"{alpha.url}/actor")

        # Fedify took our Accept of its Follow, and its verifiers hold on it one by one.
        await until_verified(fedify, alpha, "Accept", follow_id)
        state = await fedify.state()
        assert state["following"][f"{alpha.url}/actor"]["state"] == "accepted"
        # Its Follow was taken at the first knock, and we hold Fedify as a follower.
        [follow] = outbound_to(state, alpha, "Follow")
        assert follow["status"] == 202, follow
        await until_relation(alpha, "followers", fedify.actor, "accepted")


async def test_we_follow_fedify_and_it_accepts(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await admin(alpha, "POST", "/following", {"target": fedify.actor})

        await until_relation(alpha, "following", fedify.actor, "accepted")
        state = await fedify.state()
        assert f"{alpha.url}/actor" in state["followers"]
        await until_verified(fedify, alpha, "Follow", fedify.actor)
        # Fedify's Accept was taken at the first knock (RFC 9421), with its proof and LD signature.
        [accept] = outbound_to(state, alpha, "Accept")
        assert accept["status"] == 202 and accept["scheme"] == "rfc9421", accept
        body = json.loads(accept["body"])
        assert "proof" in body and body["signature"]["type"] == "RsaSignature2017"


async def test_our_unfollow_reaches_fedify(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await we_follow(alpha, fedify)
        await fedify.until(lambda s: f"{alpha.url}/actor" in s["followers"], "us as a follower")

        await admin(alpha, "POST", "/following/unfollow", {"actor": fedify.actor})

        # Fedify took our Undo (verified, or its listener would not have run) and dropped us.
        await fedify.until(lambda s: f"{alpha.url}/actor" not in s["followers"], "our Undo")
        [undo] = received(await fedify.state(), "Undo", f"{alpha.url}/actor")
        assert undo["json"]["object"]["type"] == "Follow", undo


async def test_undo_of_fedifys_follow_removes_it(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await fedify_follows(fedify, alpha)
        await until_relation(alpha, "followers", fedify.actor, "accepted")

        await fedify.unfollow(f"{alpha.url}/actor")

        await until_relation(alpha, "followers", fedify.actor, "undone")
        [undo] = outbound_to(await fedify.state(), alpha, "Undo")
        assert undo["status"] == 202, undo


# -- our blocks to Fedify ----------------------------------------------------------------------


async def test_our_create_update_delete_reach_fedify_signed_and_proved(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await fedify_follows(fedify, alpha)
        block_id = await create_block(alpha, "Shared with Fedify")
        url = block_url(alpha, block_id)
        await until_verified(fedify, alpha, "Create", url)

        await call(alpha, "PATCH", f"/api/v1/blocks/{block_id}", {"content": "edited"})
        update = await until_verified(fedify, alpha, "Update", url)
        assert update["json"]["object"]["content"] == "edited"

        await call(alpha, "DELETE", f"/api/v1/blocks/{block_id}")
        await until_verified(fedify, alpha, "Delete", url)


async def test_a_private_block_never_reaches_fedify(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await fedify_follows(fedify, alpha)
        private_id = await create_block(alpha, "Kept at home", visibility="private")
        public_id = await create_block(alpha, "Said after the secret")

        # Barrier: the public block, reported after the private one, has arrived.
        await until_verified(fedify, alpha, "Create", block_url(alpha, public_id))
        state = await fedify.state()
        assert not [e for e in state["inbound"] if private_id in e["body"]]
        assert not [e for e in state["inbound"] if "Kept at home" in e["body"]]


# -- Fedify's activities to us -----------------------------------------------------------------


async def test_fedifys_block_create_update_delete_reach_our_backend(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await we_follow(alpha, fedify)
        # Our terms inline, as our own objects carry them: the shared vocabulary (one IRI for
        # every instance) that each gateway also serves at {base}/ns.
        block = {
            "shape": "block",
            "id": "from-fedify",
            "title": "Written on Fedify",
            "context": [AS_CONTEXT, (await get_json(f"{alpha.url}/ns"))["@context"]],
        }
        urn = f"urn:block:{fedify.host}:from-fedify"

        async def held(content: str | None) -> Any:
            blocks = await call(alpha, "GET", "/api/v1/remote-blocks")
            mine = [b for b in blocks["items"] if b["urn"] == urn]
            return mine if content is None else [b for b in mine if b["content"] == content]

        created = await fedify.send(alpha.url + "/actor", type="Create", content="first", **block)
        assert created["status"] == 202, created
        [held_block] = await until(lambda: held("first"))
        assert held_block["title"] == "Written on Fedify" and held_block["origin"] == fedify.host
        [post] = outbound_to(await fedify.state(), alpha, "Create")
        how = "a block-shaped Create: signJsonLd (LD signature over our terms) + RFC 9421"
        await record_vector("fedify-create-block-ldsig.json", fedify, post["body"], how)

        updated = await fedify.send(alpha.url + "/actor", type="Update", content="second", **block)
        assert updated["status"] == 202, updated
        await until(lambda: held("second"))

        # A Delete Fedify's vocabulary can say (a Tombstone), so sendActivity with its defaults.
        await fedify.send(alpha.url + "/actor", type="Delete", **block)

        async def gone() -> bool:
            return not await held(None)

        await until(gone)


async def test_fedifys_plain_note_is_taken_and_ignored(tmp_path: Path) -> None:
    notified: list[Any] = []  # what our backend is told about remote content

    @aiohttp.web.middleware
    async def count_notifications(request: aiohttp.web.Request, handler: Any) -> Any:
        if request.path == "/api/v1/inbound":
            body = await request.json()
            notes = body if isinstance(body, list) else [body]
            notified.extend(n for n in notes if not n["type"].startswith("follow."))
        return await handler(request)

    counted = {"backend_middlewares": [count_notifications]}
    async with gateway_and_fedify(tmp_path, **counted) as (alpha, fedify):
        await we_follow(alpha, fedify)
        sent = await fedify.send(
            f"{alpha.url}/actor", type="Create", shape="note", id="n1", content="Hello"
        )
        [post] = await fedify.until(
            lambda s: [e for e in outbound_to(s, alpha, "Create") if e["status"]], "our answer"
        )
        assert post["status"] == 202 and "proof" in json.loads(post["body"]), post
        how = "a Create(Note) by sendActivity with its defaults, as our inbox received it"
        await record_vector("fedify-create-note.json", fedify, post["body"], how)

        # Barrier: our inbox job for the Note has settled, done (not dead), notifying nobody.
        async def settled() -> list[JobState]:
            return [
                state
                for state in (JobState.DONE, JobState.DEAD)
                for job in await jobs_of(alpha, JobKind.INBOX, state)
                if payload_of(job, InboxPayload).activity["id"] == sent["activity"]
            ]

        assert await until(settled) == [JobState.DONE]
        assert await jobs_of(alpha, JobKind.INBOX, JobState.DEAD) == []
        assert notified == []
