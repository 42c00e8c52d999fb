"""Linked Data signatures (RsaSignature2017) at a real gateway's inbox.

Mastodon forwards an activity to the followers of a thread with its author's LD signature on it,
and relays do the same: the request is HTTP-signed by the carrier, not the author. Such an
activity is accepted when the author's LD signature covers it, and refused, saying which check
failed, when it does not. An LD signature on an activity its own actor HTTP-signed is ignored, as
Mastodon ignores it. The peers are real actors on 127.0.0.1 whose RSA keys the gateway fetches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from federation.proofs import sign_ld_signature
from tests.integration.test_inbox_proofs import Env, proved
from tests.support.peer import Peer

pytestmark = pytest.mark.integration


@pytest.fixture
def env(author_and_carrier: Env) -> Env:
    return author_and_carrier


def ld_signed(author: Peer, activity: dict[str, Any], key_of: Peer | None = None) -> dict[str, Any]:
    """`activity` with an RsaSignature2017 by `key_of`'s RSA key (default: its author's)."""
    signer = key_of or author
    return sign_ld_signature(activity, signer.rsa, signer.rsa_key_id, datetime.now(UTC))


async def test_a_forwarded_activity_signed_by_its_author_is_accepted(env: Env) -> None:
    activity = ld_signed(env.author, env.author.create())
    await env.expect_accepted(env.carrier.signed_post(env.inbox, activity), activity["id"])


async def test_a_forwarded_activity_altered_after_signing_is_refused(env: Env) -> None:
    activity = ld_signed(env.author, env.author.create())
    activity["object"]["content"] = "words the author never wrote"
    req = env.carrier.signed_post(env.inbox, activity)
    await env.expect_refused(
        req, "Linked Data signature rejected", "bad_ld_signature", activity["id"]
    )


async def test_an_ld_signature_by_a_key_its_actor_does_not_own_is_refused(env: Env) -> None:
    activity = ld_signed(env.author, env.author.create(), key_of=env.carrier)
    req = env.carrier.signed_post(env.inbox, activity)
    await env.expect_refused(
        req, "Linked Data signature rejected", "ld_key_not_owned_by_actor", activity["id"]
    )


async def test_a_bad_ld_signature_is_ignored_when_the_actor_signed_the_request(env: Env) -> None:
    activity = ld_signed(env.author, env.author.create())
    activity["object"]["content"] = "changed after the LD signature, before sending"
    await env.expect_accepted(env.author.signed_post(env.inbox, activity), activity["id"])


async def test_fedifys_order_proof_then_ld_signature_is_accepted_forwarded(env: Env) -> None:
    """What a Fedify server sends, carried by someone else: either mechanism authenticates.
    (Its context names data-integrity/v1, as Fedify's does, so the LD signature covers the
    proof too.)"""
    contexts = [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ]
    activity = ld_signed(
        env.author, proved(env.author, env.author.create(**{"@context": contexts}))
    )
    await env.expect_accepted(env.carrier.signed_post(env.inbox, activity), activity["id"])
