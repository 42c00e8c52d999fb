"""A proof beside a Linked Data signature: what a Fedify server really sends (proof made first,
LD signature added after), the other order, and that nothing else may stand outside a proof."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from federation.keys import ed25519_public_from_multibase
from federation.proofs import ProofError, ProofReason, sign_document, split_proof, verify_proof
from federation.proofs.eddsa_jcs import is_ld_signature
from tests.unit.test_proofs import CREATED, METHOD, fep_8b32_activity, vector_key

LD_SIGNATURE = {
    "type": "RsaSignature2017",
    "creator": "https://server.example/users/alice#main-key",
    "created": "2023-02-24T23:36:40Z",
    "signatureValue": "c2lnbmVkIGJ5IFJTQQ==",
}


def proof_then_ld_signature() -> dict[str, Any]:
    """Fedify's order: the proof covers the document without `signature`."""
    document = sign_document(fep_8b32_activity(), vector_key(), METHOD, CREATED)
    return {**document, "signature": copy.deepcopy(LD_SIGNATURE)}


def ld_signature_then_proof() -> dict[str, Any]:
    """The other order: the proof covers the LD signature too."""
    document = {**fep_8b32_activity(), "signature": copy.deepcopy(LD_SIGNATURE)}
    return sign_document(document, vector_key(), METHOD, CREATED)


def verify(document: dict[str, Any]) -> None:
    signed = split_proof(document)
    assert signed is not None
    verify_proof(signed, vector_key().public_key())


def refusal(document: dict[str, Any]) -> ProofError:
    with pytest.raises(ProofError) as caught:
        verify(document)
    return caught.value


@pytest.mark.parametrize("make", [proof_then_ld_signature, ld_signature_then_proof])
def test_a_proof_holds_in_either_order_with_a_linked_data_signature(make: Any) -> None:
    verify(make())


@pytest.mark.parametrize("make", [proof_then_ld_signature, ld_signature_then_proof])
def test_content_altered_after_signing_is_refused_in_either_order(make: Any) -> None:
    document = make()
    document["object"]["content"] = "Hello w0rld"
    error = refusal(document)
    assert error.reason is ProofReason.BAD_SIGNATURE
    assert error.detail == "the proof does not match the document"


def test_a_signature_member_that_is_not_a_linked_data_signature_must_be_covered() -> None:
    """Only an LD-signature-shaped `signature` may stand outside the proof: any other value
    under that name is content the proof does not cover."""
    document = sign_document(fep_8b32_activity(), vector_key(), METHOD, CREATED)
    for value in ("forged", {"type": "RsaSignature2017"}, {"signatureValue": "x"}, [LD_SIGNATURE]):
        assert refusal({**document, "signature": value}).reason is ProofReason.BAD_SIGNATURE


def test_a_linked_data_signature_under_another_name_must_be_covered() -> None:
    document = sign_document(fep_8b32_activity(), vector_key(), METHOD, CREATED)
    document["ldSignature"] = copy.deepcopy(LD_SIGNATURE)
    assert refusal(document).reason is ProofReason.BAD_SIGNATURE


def test_with_a_linked_data_signature_any_other_added_member_still_breaks_the_proof() -> None:
    document = proof_then_ld_signature()
    document["to"] = ["https://www.w3.org/ns/activitystreams#Public"]
    assert refusal(document).reason is ProofReason.BAD_SIGNATURE


def test_a_linked_data_signature_changed_after_a_proof_that_covers_it_is_refused() -> None:
    """When the proof covers the LD signature (the second order), its reading without the
    signature does not hold either, so a swapped LD signature is refused."""
    document = ld_signature_then_proof()
    document["signature"]["creator"] = "https://server.example/users/mallory#main-key"
    document_fedify_order = proof_then_ld_signature()
    document_fedify_order["signature"]["creator"] = "https://server.example/users/mallory#key"
    assert refusal(document).reason is ProofReason.BAD_SIGNATURE
    verify(document_fedify_order)  # uncovered in Fedify's order: checked by LD-signature code


VECTOR = Path(__file__).parents[1] / "vectors" / "ld_signatures" / "fedify-server-create.json"


def test_what_a_real_fedify_server_sent_verifies_as_it_arrived() -> None:
    """The recorded body of a Fedify 2.3 server's Create (tests/vectors/README.md): its proof
    holds over the activity as it arrived, LD signature and all; altered, it is refused."""
    recorded = json.loads(VECTOR.read_text())
    key = ed25519_public_from_multibase(recorded["ed25519PublicKeyMultibase"])
    document = recorded["document"]
    assert is_ld_signature(document["signature"])
    signed = split_proof(document)
    assert signed is not None
    verify_proof(signed, key)
    document["object"]["content"] = "altered after signing"
    altered = split_proof(document)
    assert altered is not None
    with pytest.raises(ProofError) as caught:
        verify_proof(altered, key)
    assert caught.value.reason is ProofReason.BAD_SIGNATURE
