"""Signatures between our gateway and a real Fedify server (tests/interop/fedify/server.mjs):
Fedify's RFC 9421 first knock, its keys (RSA for HTTP and LD signatures, Ed25519 for proofs),
and Accept-Signature (RFC 9421 section 5) both ways. What Fedify does is read from its own
record of the wire (tests/support/fedify_server.py); every wait is a positive barrier.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.test_federation_flow import call
from tests.support.cluster import until
from tests.support.fedify_flows import (
    AS_CONTEXT,
    gateway_and_fedify,
    get_json,
    outbound_to,
    received,
    until_relation,
    until_verified,
    we_follow,
)
from tests.support.fedify_server import FedifyServer
from tests.support.peer import post, serve_peer

pytestmark = pytest.mark.integration

# What our inbox needs covered by an RFC 9421 signature on a POST (and Mastodon's profile too).
REQUIRED = ('"@method"', '"@target-uri"', '"content-digest"')


async def fedify_actor(fedify: FedifyServer) -> dict[str, Any]:
    headers = {"Accept": "application/activity+json"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(fedify.actor, headers=headers) as resp,
    ):
        assert resp.status == 200
        document: dict[str, Any] = await resp.json(content_type=None)
        return document


@pytest.mark.parametrize("first_knock", ["rfc9421", "cavage"])
async def test_fedifys_first_knock_is_taken(tmp_path: Path, first_knock: str) -> None:
    """RFC 9421 is Fedify's default first knock; draft-cavage is its other choice."""
    flags = () if first_knock == "rfc9421" else ("--first-knock", "cavage")
    async with gateway_and_fedify(tmp_path, *flags) as (alpha, fedify):
        await fedify.follow(f"{alpha.url}/actor")
        await until_relation(alpha, "followers", fedify.actor, "accepted")

        # One POST of the Follow, taken as it came: Fedify never had to fall back.
        [post] = outbound_to(await fedify.state(), alpha, "Follow")
        assert (post["scheme"], post["status"]) == (first_knock, 202), post
        if first_knock == "rfc9421":
            assert all(name in post["signatureInput"] for name in REQUIRED), post
            assert ";created=" in post["signatureInput"]


async def test_fedify_signs_http_with_rsa_and_proves_with_ed25519(tmp_path: Path) -> None:
    """Fedify makes HTTP signatures with RSA keys only (its manual: "Fedify currently supports
    only RSA-PKCS#1-v1.5 key pairs for generating HTTP Message Signatures"), so an Ed25519 HTTP
    signature from a Fedify server cannot happen; its Ed25519 key signs the FEP-8b32 proof.
    Both must hold with us, and ours (RSA HTTP signature, Ed25519 proof) with Fedify."""
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        await we_follow(alpha, fedify)
        # Ours, checked by Fedify's verifiers: the RSA HTTP signature and the Ed25519 proof.
        await until_verified(fedify, alpha, "Follow", fedify.actor)

        actor = await fedify_actor(fedify)
        ed25519 = [
            k["id"] for k in actor["assertionMethod"] if k["publicKeyMultibase"][:4] == "z6Mk"
        ]
        [accept] = outbound_to(await fedify.state(), alpha, "Accept")
        assert accept["status"] == 202, accept
        assert 'alg="rsa-v1_5-sha256"' in accept["signatureInput"]
        assert f'keyid="{actor["publicKey"]["id"]}"' in accept["signatureInput"]
        proof = json.loads(accept["body"])["proof"]
        assert proof["cryptosuite"] == "eddsa-jcs-2022"
        assert proof["verificationMethod"] in ed25519


async def test_our_gateway_meets_fedifys_signature_challenge(tmp_path: Path) -> None:
    async with gateway_and_fedify(tmp_path, "--challenge-nonce") as (alpha, fedify):
        # Our transport knocks with RFC 9421 first at Fedify's host, as at a host it once had to
        # fall back to (set before any traffic, so the transport reads it from the store).
        await alpha.instance.store.set_signature_scheme(fedify.host, "rfc9421")
        # What Fedify really does with our deliveries: it checks the proof first and the HTTP
        # signature only when no proof holds, so a proved delivery is taken at the first knock
        # and its challenge (here: a one-time nonce) is never reached.
        await we_follow(alpha, fedify)
        state = await fedify.state()
        [follow] = received(state, "Follow", f"{alpha.url}/actor")
        knocks = [e for e in state["inbound"] if follow["id"] in e["body"]]
        assert [(k["scheme"], k["status"]) for k in knocks] == [("rfc9421", 202)], knocks

        # Without a proof, the HTTP signature decides: Fedify answers our first knock 401 with
        # Accept-Signature asking for a nonce; our retry signs as asked and is taken.
        activity = {
            "@context": AS_CONTEXT,
            "id": f"{alpha.url}/activities/unproved-1",
            "type": "Create",
            "actor": f"{alpha.url}/actor",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": f"{alpha.url}/notes/unproved-1",
                "type": "Note",
                "attributedTo": f"{alpha.url}/actor",
                "content": "no proof on this one",
            },
        }
        result = await alpha.instance.transport.deliver(
            f"{fedify.actor}/inbox", json.dumps(activity).encode()
        )

        assert result.status == 202, result
        state = await fedify.state()
        knocks = [e for e in state["inbound"] if activity["id"] in e["body"]]
        assert [k["status"] for k in knocks] == [401, 202], knocks
        assert knocks[0]["acceptSignature"] and ";nonce=" in knocks[0]["acceptSignature"]
        nonce = knocks[0]["acceptSignature"].split(";nonce=")[1].split(";")[0]
        # Met, not side-stepped: Fedify takes a draft-cavage retry without any nonce.
        assert knocks[1]["scheme"] == "rfc9421", knocks[1]
        assert f";nonce={nonce}" in knocks[1]["signatureInput"], knocks[1]
        assert received(state, "Create", f"{alpha.url}/actor")


@pytest.mark.parametrize("first", ["none", "stale"])
async def test_fedify_meets_our_signature_challenge(tmp_path: Path, first: str) -> None:
    """A knock on our inbox without a signature, or with one two hours old, is answered 401
    with Accept-Signature naming what we accept; Fedify reads it, signs as asked, is taken."""
    async with gateway_and_fedify(tmp_path) as (alpha, fedify):
        result = await fedify.control("knock", {"to": f"{alpha.url}/actor", "first": first})

        first_knock = result["knocks"][0]
        assert first_knock["status"] == 401, result
        asked = first_knock["acceptSignature"]
        assert asked and all(name in asked for name in REQUIRED), result
        assert len(result["knocks"]) == 2, result  # Fedify could meet the ask
        retry = result["knocks"][1]
        assert retry["status"] == 202, result
        assert all(name in retry["signatureInput"] for name in REQUIRED), result


async def test_fedifys_ed25519_proof_decides_an_activity_another_server_forwards(
    tmp_path: Path,
) -> None:
    """Inbox forwarding: the HTTP signer is not the author, so only the author's proof can
    vouch for the activity. Fedify's real bytes, forwarded by another server (a test peer)."""
    async with gateway_and_fedify(tmp_path) as (alpha, fedify), serve_peer() as forwarder:
        await we_follow(alpha, fedify)
        await fedify.send(forwarder.actor, type="Create", shape="note", id="fwd", content="Hi")
        await fedify.until(lambda s: forwarder.received, "the Create at the forwarder")
        signed = json.loads(forwarder.received[0])
        # The proof alone (the LD signature taken off): Fedify's Ed25519 key must vouch for it.
        proved_only = {k: v for k, v in signed.items() if k != "signature"}
        altered = {**proved_only, "object": {**proved_only["object"], "content": "forged"}}

        async with aiohttp.ClientSession() as session:
            inbox = f"{alpha.url}/inbox"
            # The forgery first: the same id would be a duplicate (409) after the real one.
            refused = await post(session, forwarder.signed_post(inbox, altered))
            taken = await post(session, forwarder.signed_post(inbox, proved_only))

        assert refused[0] == 401 and refused[2]["title"] == "Proof rejected", refused
        assert taken[0] == 202, taken


async def test_fedifys_ld_signature_decides_a_block_another_server_forwards(
    tmp_path: Path,
) -> None:
    """A block-shaped Create from Fedify carries no proof (its vocabulary cannot carry our
    terms, see control.mjs) but an RsaSignature2017 over them: forwarded by another server, that
    LD signature alone vouches for it, and the block reaches our backend."""
    async with gateway_and_fedify(tmp_path) as (alpha, fedify), serve_peer() as forwarder:
        await we_follow(alpha, fedify)
        vocabulary = (await get_json(f"{alpha.url}/ns"))["@context"]
        block = {"shape": "block", "id": "forwarded", "title": "Via a relay"}
        sent = await fedify.send(
            forwarder.actor,
            type="Create",
            content="relayed",
            context=[AS_CONTEXT, vocabulary],
            **block,
        )
        assert sent["status"] == 202, sent
        signed = json.loads(forwarder.received[0])
        assert "proof" not in signed and signed["signature"]["type"] == "RsaSignature2017"
        forged = {**signed, "object": {**signed["object"], "content": "forged"}}

        async with aiohttp.ClientSession() as session:
            inbox = f"{alpha.url}/inbox"
            refused = await post(session, forwarder.signed_post(inbox, forged))
            taken = await post(session, forwarder.signed_post(inbox, signed))

        assert refused[0] == 401, refused
        assert refused[2]["title"] == "Linked Data signature rejected", refused
        assert refused[2]["detail"].startswith("bad_ld_signature"), refused
        assert taken[0] == 202, taken
        urn = f"urn:block:{fedify.host}:forwarded"

        async def held() -> Any:
            blocks = await call(alpha, "GET", "/api/v1/remote-blocks")
            return [b for b in blocks["items"] if b["urn"] == urn and b["content"] == "relayed"]

        await until(held)
