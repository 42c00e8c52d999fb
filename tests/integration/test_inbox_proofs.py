"""Object integrity proofs at a real gateway's inbox (FEP-8b32).

The peers are real actors served on 127.0.0.1 whose Ed25519 Multikeys (assertionMethod) the
gateway fetches over HTTP. A proof that is present must hold; a valid proof by the actor is what
lets someone else carry the activity (inbox forwarding, relays).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from federation.keys import ed25519_public_from_multibase
from federation.proofs import sign_document, split_proof, verify_proof
from tests.support.forwarding import ForwardingEnv
from tests.support.peer import Peer

pytestmark = pytest.mark.integration


@pytest.fixture
def env(author_and_carrier: ForwardingEnv) -> ForwardingEnv:
    return author_and_carrier


Env = ForwardingEnv


def proved(peer: Peer, activity: dict[str, Any], key_of: Peer | None = None) -> dict[str, Any]:
    """`activity` with an eddsa-jcs-2022 proof by `key_of` (default: `peer`, its actor)."""
    signer = key_of or peer
    return sign_document(activity, signer.ed25519, signer.ed25519_key_id, datetime.now(UTC))


async def test_an_activity_with_a_valid_proof_by_its_actor_is_accepted(env: Env) -> None:
    activity = proved(env.author, env.author.create())
    await env.expect_accepted(env.author.signed_post(env.inbox, activity), activity["id"])


async def test_a_forwarded_activity_is_accepted_when_the_actors_proof_covers_it(env: Env) -> None:
    activity = proved(env.author, env.author.create())
    # The carrier signs the HTTP request; the author never talks to us.
    await env.expect_accepted(env.carrier.signed_post(env.inbox, activity), activity["id"])


async def test_a_forwarded_activity_altered_after_signing_is_refused(env: Env) -> None:
    activity = proved(env.author, env.author.create())
    activity["object"]["content"] = "words the author never wrote"
    req = env.carrier.signed_post(env.inbox, activity)
    await env.expect_refused(req, "Proof rejected", "bad_proof_signature", activity["id"])


async def test_a_forwarded_activity_without_proof_is_refused(env: Env) -> None:
    activity = env.author.create()
    req = env.carrier.signed_post(env.inbox, activity)
    await env.expect_refused(req, "Signer is not the actor", "no proof", activity["id"])


async def test_a_proof_made_with_someone_elses_key_is_refused(env: Env) -> None:
    """The carrier proves the author's activity with its own key: the key is not the actor's."""
    activity = proved(env.author, env.author.create(), key_of=env.carrier)
    req = env.carrier.signed_post(env.inbox, activity)
    await env.expect_refused(req, "Proof rejected", "proof_key_not_owned_by_actor", activity["id"])


async def test_a_bad_proof_is_refused_even_when_the_http_signer_is_the_actor(env: Env) -> None:
    activity = proved(env.author, env.author.create())
    activity["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    req = env.author.signed_post(env.inbox, activity)
    await env.expect_refused(req, "Proof rejected", "unsupported_cryptosuite", activity["id"])
    # and the gateway keeps serving: the same author's good activity right after is taken
    good = proved(env.author, env.author.create())
    await env.expect_accepted(env.author.signed_post(env.inbox, good), good["id"])


async def test_what_we_send_carries_a_proof_by_our_published_multikey(env: Env) -> None:
    """Every activity we send is proved with the Ed25519 key our actor publishes (FEP-521a)."""
    async with env.session.get(
        f"{env.node.url}/actor", headers={"Accept": "application/activity+json"}
    ) as resp:
        actor = await resp.json(content_type=None)
    (multikey,) = actor["assertionMethod"]
    sent = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor['id']}#test-{env.author.port}",
        "type": "Follow",
        "actor": actor["id"],
        "object": env.author.actor,
    }
    await env.node.instance.publisher.send_to(sent, f"{env.author.actor}/inbox")
    await wait_until(lambda: bool(env.author.received))
    delivered = json.loads(env.author.received[0])
    signed = split_proof(delivered)
    assert signed is not None and signed.verification_method == multikey["id"]
    assert multikey["controller"] == delivered["actor"]
    verify_proof(signed, ed25519_public_from_multibase(multikey["publicKeyMultibase"]))
    # what we asked to send, with the context that defines `proof` for JSON-LD readers added
    assert {**signed.unsecured, "@context": sent["@context"]} == sent
    assert signed.unsecured["@context"] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ]


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)
