"""Documents a real Fedify server sent, recorded by the interop suite (tests/vectors/
fedify_server/, README there): what a Fedify 2.x server puts on its activities (a proof made
first, then a Linked Data signature; an LD signature over our block terms) keeps verifying with
us, and stops verifying once the content is altered."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from federation.keys import ed25519_public_from_multibase
from federation.proofs import (
    LdReason,
    LdSignatureError,
    ProofError,
    ProofReason,
    split_ld_signature,
    split_proof,
    verify_ld_signature,
    verify_proof,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "fedify_server"
NOTE = "fedify-create-note.json"
BLOCK = "fedify-create-block-ldsig.json"


def vector(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / name).read_text())
    assert json.loads(loaded["body"]) == loaded["activity"]
    return loaded


def altered(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["object"]["content"] = "not what Fedify signed"
    return changed


def proof_of(recorded: dict[str, Any], document: dict[str, Any]) -> None:
    """Verify the document's proof with the Ed25519 key its actor publishes (FEP-521a)."""
    signed = split_proof(document)
    assert signed is not None
    [key] = [
        k
        for k in recorded["actor"]["assertionMethod"]
        if k["id"] == signed.verification_method and k["publicKeyMultibase"].startswith("z6Mk")
    ]
    verify_proof(signed, ed25519_public_from_multibase(key["publicKeyMultibase"]))


def ld_signature_of(recorded: dict[str, Any], document: dict[str, Any]) -> None:
    """Verify the document's RsaSignature2017 with the RSA key its actor publishes."""
    signed = split_ld_signature(document)
    assert signed is not None
    assert document["signature"]["creator"] == recorded["actor"]["publicKey"]["id"]
    key = load_pem_public_key(recorded["actor"]["publicKey"]["publicKeyPem"].encode())
    assert isinstance(key, RSAPublicKey)
    verify_ld_signature(signed, key)


def test_fedifys_create_carries_a_proof_and_then_an_ld_signature_both_valid() -> None:
    recorded = vector(NOTE)
    activity = recorded["activity"]
    assert activity["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert activity["signature"]["type"] == "RsaSignature2017"
    proof_of(recorded, activity)
    ld_signature_of(recorded, activity)


def test_fedifys_create_altered_after_signing_is_refused_by_both() -> None:
    recorded = vector(NOTE)
    with pytest.raises(ProofError) as proof_refusal:
        proof_of(recorded, altered(recorded["activity"]))
    assert proof_refusal.value.reason is ProofReason.BAD_SIGNATURE
    with pytest.raises(LdSignatureError) as ld_refusal:
        ld_signature_of(recorded, altered(recorded["activity"]))
    assert ld_refusal.value.reason is LdReason.BAD_SIGNATURE


def test_fedifys_ld_signature_over_our_block_terms_holds_and_refuses_an_alteration() -> None:
    recorded = vector(BLOCK)
    block = recorded["activity"]["object"]
    assert block["urn"].startswith("urn:block:") and "blockKind" in block
    ld_signature_of(recorded, recorded["activity"])
    with pytest.raises(LdSignatureError):
        ld_signature_of(recorded, altered(recorded["activity"]))
