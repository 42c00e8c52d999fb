"""The instance's proof signer: which context it declares, how it dates, what it signs."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.proofs import ObjectSigner, split_proof, verify_proof
from federation.proofs.signer import DATA_INTEGRITY_CONTEXT, with_proof_terms

AS = "https://www.w3.org/ns/activitystreams"
NS = "https://alpha.example/ns"
METHOD = "https://alpha.example/actor#ed25519-key"


def test_the_data_integrity_context_goes_right_after_activitystreams() -> None:
    assert DATA_INTEGRITY_CONTEXT == "https://w3id.org/security/data-integrity/v1"
    document = {"@context": [AS, NS], "type": "Note"}
    assert with_proof_terms(document) == {
        "@context": [AS, DATA_INTEGRITY_CONTEXT, NS],
        "type": "Note",
    }
    assert document == {"@context": [AS, NS], "type": "Note"}  # the input is not changed


def test_a_single_context_or_none_becomes_a_list() -> None:
    assert with_proof_terms({"@context": AS})["@context"] == [AS, DATA_INTEGRITY_CONTEXT]
    assert with_proof_terms({"type": "Note"})["@context"] == [DATA_INTEGRITY_CONTEXT]


def test_a_document_that_declares_it_already_is_left_alone() -> None:
    document = {"@context": [AS, NS, DATA_INTEGRITY_CONTEXT]}
    assert with_proof_terms(document) is document


def test_sign_dates_the_proof_by_the_whole_second_given_and_is_deterministic() -> None:
    key = Ed25519PrivateKey.generate()
    signer = ObjectSigner(key, METHOD)
    assert signer.verification_method == METHOD
    document = {"@context": [AS, NS], "id": "https://alpha.example/blocks/1", "type": "Note"}
    first = signer.sign(document, 1_764_000_000.9)
    assert first == signer.sign(document, 1_764_000_000.2)  # same second, same bytes
    assert first["proof"]["created"] == "2025-11-24T16:00:00Z"
    assert first["proof"]["verificationMethod"] == METHOD
    assert first["@context"] == [AS, DATA_INTEGRITY_CONTEXT, NS]
    assert first["proof"]["@context"] == first["@context"]
    parsed = split_proof(first)
    assert parsed is not None
    verify_proof(parsed, key.public_key())
    assert signer.sign(document, 1_764_000_001) != first


def test_the_signer_never_shows_its_key() -> None:
    text = repr(ObjectSigner(Ed25519PrivateKey.generate(), METHOD))
    assert text == f"ObjectSigner({METHOD!r})"
