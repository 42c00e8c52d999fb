"""Linked Data signatures the other way round: what our `sign_ld_signature` makes, Fedify 2.3's
`verifyJsonLd` checks (signature, then that the key's owner is the activity's actor).

The Fedify side is tests/interop/fedify/ld_signatures.mjs, installed by scripts/setup-interop.
Documents Fedify made are checked by our verifier in tests/unit/test_ld_signatures.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.activities.context import object_context
from federation.proofs import sign_ld_signature

pytestmark = pytest.mark.integration

FEDIFY = Path(__file__).resolve().parent / "fedify"
NODE = FEDIFY / "node_modules" / ".bin" / "node"
AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
ACTOR = "https://alpha.example/actor"
KEY_ID = f"{ACTOR}#main-key"
CREATED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def fedify_verifies(document: dict[str, Any], documents: dict[str, Any]) -> bool:
    if not NODE.exists():
        pytest.fail(f"Fedify is not installed in {FEDIFY}: run scripts/setup-interop")
    done = subprocess.run(
        [str(NODE), "ld_signatures.mjs", "verify"],
        cwd=FEDIFY,
        input=json.dumps({"document": document, "documents": documents}).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    verified: bool = json.loads(done.stdout)["verified"]
    return verified


@cache
def our_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def actor_document(actor: str, key_id: str, key: RSAPrivateKey) -> dict[str, Any]:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "@context": [AS, SECURITY],
        "id": actor,
        "type": "Service",
        "inbox": f"{actor}/inbox",
        "publicKey": {"id": key_id, "owner": actor, "publicKeyPem": pem.decode()},
    }


def create(context: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "@context": context,
        "id": f"{ACTOR}/activities/1",
        "type": "Create",
        "actor": ACTOR,
        "to": [f"{AS}#Public"],
        "object": {
            "id": f"{ACTOR}/blocks/n-1",
            "type": "Note",
            "attributedTo": ACTOR,
            "content": "signed by our gateway",
            "to": [f"{AS}#Public"],
            **extra,
        },
    }


async def test_fedify_verifies_our_signature_and_refuses_it_altered() -> None:
    signed = sign_ld_signature(create([AS, SECURITY]), our_key(), KEY_ID, CREATED)
    documents = {ACTOR: actor_document(ACTOR, KEY_ID, our_key())}
    assert await asyncio.to_thread(fedify_verifies, signed, documents) is True
    altered = {**signed, "object": {**signed["object"], "content": "not what alpha signed"}}
    assert await asyncio.to_thread(fedify_verifies, altered, documents) is False


async def test_fedify_verifies_a_block_over_the_shared_vocabulary() -> None:
    """Our block terms, under the one vocabulary every instance shares, inline in the
    `@context` as our objects carry them: neither side fetches a context of ours."""
    block_terms = {
        "urn": "urn:block:alpha.example:n-1",
        "blockKind": "note",
        "visibility": "public",
    }
    signed = sign_ld_signature(
        create([*object_context(), SECURITY], **block_terms), our_key(), KEY_ID, CREATED
    )
    documents = {ACTOR: actor_document(ACTOR, KEY_ID, our_key())}
    assert await asyncio.to_thread(fedify_verifies, signed, documents) is True
    altered = {**signed, "object": {**signed["object"], "blockKind": "task"}}
    assert await asyncio.to_thread(fedify_verifies, altered, documents) is False


async def test_fedify_refuses_our_signature_by_a_key_the_actor_does_not_own() -> None:
    """The owner check is the caller's (as for HTTP signatures): Fedify does it this way."""
    other = "https://mallory.example/actor"
    documents = {other: actor_document(other, f"{other}#main-key", our_key())}
    signed = sign_ld_signature(create([AS, SECURITY]), our_key(), f"{other}#main-key", CREATED)
    assert await asyncio.to_thread(fedify_verifies, signed, documents) is False
    # The same key over the same Create, now by its owner: accepted, so ownership was the reason.
    own = sign_ld_signature(
        {**create([AS, SECURITY]), "actor": other}, our_key(), f"{other}#main-key", CREATED
    )
    assert await asyncio.to_thread(fedify_verifies, own, documents) is True
