"""Documents a real Fedify server sent, recorded by the interop suite (tests/interop/vectors/,
README there): what a Fedify 2.x server puts on every activity must keep verifying with us."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from federation.keys import ed25519_public_from_multibase
from federation.proofs import ProofError, ProofReason, split_proof, verify_proof

VECTORS = Path(__file__).resolve().parent / "vectors"


def vector(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return loaded


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


def test_fedifys_create_carries_a_proof_and_then_an_ld_signature() -> None:
    recorded = vector("fedify-create-note.json")
    activity = recorded["activity"]
    assert json.loads(recorded["body"]) == activity
    assert activity["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert activity["signature"]["type"] == "RsaSignature2017"
    assert activity["signature"]["creator"] == recorded["actor"]["publicKey"]["id"]
    proof_of(recorded, activity)


def test_fedifys_create_altered_after_signing_is_refused() -> None:
    recorded = vector("fedify-create-note.json")
    altered = copy.deepcopy(recorded["activity"])
    altered["object"]["content"] = "not what Fedify signed"
    with pytest.raises(ProofError) as caught:
        proof_of(recorded, altered)
    assert caught.value.reason is ProofReason.BAD_SIGNATURE
