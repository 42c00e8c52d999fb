"""eddsa-jcs-2022 object integrity proofs: the published vectors, and every way a proof fails."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.keys import ed25519_public_from_multibase, multibase_ed25519_public
from federation.proofs import ProofError, ProofReason, sign_document, split_proof, verify_proof

# The W3C vc-di-eddsa test key (also FEP-8b32's): multicodec ed25519-priv 0x8026 + 32-byte seed.
SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
METHOD = "https://server.example/users/alice#ed25519-key"  # FEP-8b32's verification method


def vector_key() -> Ed25519PrivateKey:
    raw = base58.b58decode(SECRET_MULTIBASE[1:])
    assert raw[:2] == b"\x80\x26"
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def fep_8b32_activity() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v1",
        ],
        "type": "Create",
        "actor": "https://server.example/users/alice",
        "object": {"type": "Note", "content": "Hello world"},
    }


FEP_8B32_PROOF_VALUE = (
    "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71TRFz56osPSfDErszyLp5Ks1EhYSgpDaNM977Rg2"
)
# The proof FEP-8b32 publishes for its example activity.
FEP_8B32_PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": METHOD,
    "proofPurpose": "assertionMethod",
    "proofValue": FEP_8B32_PROOF_VALUE,
    "created": "2023-02-24T23:36:38Z",
}
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_METHOD = f"did:key:{PUBLIC_MULTIBASE}#{PUBLIC_MULTIBASE}"
W3C_PROOF_VALUE = (
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)


def w3c_credential() -> dict[str, Any]:
    return {
        "@context": list(W3C_CONTEXT),
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }


def test_the_vector_key_is_the_published_multikey() -> None:
    assert multibase_ed25519_public(vector_key().public_key()) == PUBLIC_MULTIBASE


def test_fep_8b32_example_is_reproduced_byte_for_byte() -> None:
    signed = signed_example(proof_context=None)
    assert signed["proof"] == FEP_8B32_PROOF


def test_fep_8b32_example_verifies_as_published() -> None:
    published = {**fep_8b32_activity(), "proof": dict(FEP_8B32_PROOF)}
    signed = split_proof(published)
    assert signed is not None
    verify_proof(signed, ed25519_public_from_multibase(PUBLIC_MULTIBASE))


def test_w3c_vc_di_eddsa_vector_is_reproduced_byte_for_byte() -> None:
    signed = sign_document(
        w3c_credential(), vector_key(), W3C_METHOD, CREATED, proof_context=list(W3C_CONTEXT)
    )
    assert signed["proof"]["proofValue"] == W3C_PROOF_VALUE
    parsed = split_proof(signed)
    assert parsed is not None
    verify_proof(parsed, ed25519_public_from_multibase(PUBLIC_MULTIBASE))


def signed_example(**options: Any) -> dict[str, Any]:
    """FEP-8b32's example activity signed with its key and time (`options` to sign_document)."""
    return sign_document(fep_8b32_activity(), vector_key(), METHOD, CREATED, **options)


def reason_of(document: dict[str, Any]) -> ProofReason:
    with pytest.raises(ProofError) as caught:
        signed = split_proof(document)
        assert signed is not None
        verify_proof(signed, vector_key().public_key())
    return caught.value.reason


def test_by_default_the_proof_repeats_the_documents_context() -> None:
    signed = signed_example()
    assert signed["proof"]["@context"] == fep_8b32_activity()["@context"]


def test_a_proof_signed_with_the_context_but_sent_without_it_verifies() -> None:
    """Fedify's convention: the proof options hashed carry the document's @context, the proof
    sent does not. Either reading is a commitment by the same key to the same document."""
    signed = signed_example()
    del signed["proof"]["@context"]
    parsed = split_proof(signed)
    assert parsed is not None
    verify_proof(parsed, vector_key().public_key())
    signed["object"]["content"] = "tampered"
    assert reason_of(signed) is ProofReason.BAD_SIGNATURE


def test_a_document_without_proof_has_none() -> None:
    assert split_proof(fep_8b32_activity()) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("object", "content"), "Hello w0rld"),
        (("actor",), "https://server.example/users/mallory"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "verificationMethod"), "https://server.example/users/alice#other"),
    ],
)
def test_any_change_to_the_document_or_the_proof_options_breaks_the_proof(
    path: tuple[str, ...], value: str
) -> None:
    document = signed_example()
    target = document
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    assert reason_of(document) is ProofReason.BAD_SIGNATURE


def test_an_added_property_breaks_the_proof() -> None:
    document = signed_example()
    document["to"] = ["https://www.w3.org/ns/activitystreams#Public"]
    assert reason_of(document) is ProofReason.BAD_SIGNATURE


def test_another_key_does_not_verify() -> None:
    signed = split_proof(signed_example())
    assert signed is not None
    with pytest.raises(ProofError) as caught:
        verify_proof(signed, Ed25519PrivateKey.generate().public_key())
    assert caught.value.reason is ProofReason.BAD_SIGNATURE
    assert caught.value.detail == "the proof does not match the document"


def test_a_key_of_another_type_is_refused_by_name() -> None:
    """An RSA key where the proof needs Ed25519: refused as unsupported, naming the key."""
    signed = split_proof(signed_example())
    assert signed is not None
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(ProofError) as caught:
        verify_proof(signed, rsa_key)
    assert (caught.value.reason, caught.value.detail) == (
        ProofReason.UNSUPPORTED,
        "the key https://server.example/users/alice#ed25519-key is not an Ed25519 key",
    )


def refusal_of(document: dict[str, Any]) -> ProofError:
    with pytest.raises(ProofError) as caught:
        signed = split_proof(document)
        assert signed is not None
        verify_proof(signed, vector_key().public_key())
    return caught.value


# What a peer is told (the inbox's 401 detail) is part of the rule: reason and words.
@pytest.mark.parametrize(
    ("name", "value", "reason", "detail"),
    [
        (
            "type",
            "Ed25519Signature2020",
            ProofReason.UNSUPPORTED,
            "only DataIntegrityProof with eddsa-jcs-2022",
        ),
        (
            "cryptosuite",
            "eddsa-rdfc-2022",
            ProofReason.UNSUPPORTED,
            "only DataIntegrityProof with eddsa-jcs-2022",
        ),
        (
            "proofPurpose",
            "authentication",
            ProofReason.WRONG_PURPOSE,
            "proofPurpose must be assertionMethod",
        ),
        (
            "verificationMethod",
            "",
            ProofReason.MALFORMED,
            "verificationMethod must be a non-empty string",
        ),
        (
            "verificationMethod",
            7,
            ProofReason.MALFORMED,
            "verificationMethod must be a non-empty string",
        ),
        ("proofValue", None, ProofReason.MALFORMED, "proofValue must be a string"),
        # base64url multibase, not base58btc
        (
            "proofValue",
            "u" + "A" * 86,
            ProofReason.MALFORMED,
            "proofValue is not multibase base58btc",
        ),
        ("proofValue", "z0OIl", ProofReason.MALFORMED, "proofValue is not valid base58btc"),
        # decodes, but is not 64 bytes
        (
            "proofValue",
            "z" + "2" * 40,
            ProofReason.MALFORMED,
            "proofValue is not a 64-byte Ed25519 signature",
        ),
        # exactly one character longer than the longest value accepted
        (
            "proofValue",
            "z" + "2" * 128,
            ProofReason.MALFORMED,
            "proofValue is not multibase base58btc",
        ),
    ],
)
def test_a_malformed_proof_is_refused_with_its_reason(
    name: str, value: object, reason: ProofReason, detail: str
) -> None:
    document = signed_example()
    document["proof"][name] = value
    refusal = refusal_of(document)
    assert (refusal.reason, refusal.detail) == (reason, detail)
    assert str(refusal) == f"{reason.value}: {detail}"


def test_the_longest_proof_value_accepted_is_128_characters() -> None:
    """128 characters reach the signature-length check (the bound only caps the decoding work)."""
    document = signed_example()
    document["proof"]["proofValue"] = "z" + "2" * 127
    assert refusal_of(document).detail == "proofValue is not a 64-byte Ed25519 signature"


def test_proof_must_be_an_object_or_a_list_of_one() -> None:
    document = signed_example()
    one = copy.deepcopy(document)
    one["proof"] = [one["proof"]]
    parsed = split_proof(one)
    assert parsed is not None and parsed.proof == document["proof"]
    verify_proof(parsed, vector_key().public_key())
    two = copy.deepcopy(document)
    two["proof"] = [two["proof"], two["proof"]]
    refusal = refusal_of(two)
    assert (refusal.reason, refusal.detail) == (ProofReason.MALFORMED, "expected exactly one proof")
    none = copy.deepcopy(document)
    none["proof"] = []
    assert refusal_of(none).detail == "expected exactly one proof"
    refusal = refusal_of({**document, "proof": "z123"})
    assert (refusal.reason, refusal.detail) == (ProofReason.MALFORMED, "proof is not an object")


def test_the_unsecured_document_is_everything_but_the_proof() -> None:
    document = signed_example()
    parsed = split_proof(document)
    assert parsed is not None
    assert parsed.unsecured == fep_8b32_activity() | {"@context": document["@context"]}
    assert parsed.verification_method == METHOD
    assert "proof" in document  # the caller's document is left as it was


def test_a_document_that_is_not_json_data_cannot_be_signed_or_verified() -> None:
    with pytest.raises(ProofError) as caught:
        sign_document({"n": float("nan")}, vector_key(), "https://x.example/k", CREATED)
    assert caught.value.reason is ProofReason.MALFORMED
    assert caught.value.detail.startswith("not canonicalisable JSON: ")
    with pytest.raises(ProofError) as big:
        sign_document({"n": 2**60}, vector_key(), "https://x.example/k", CREATED)
    assert big.value.reason is ProofReason.MALFORMED


def test_a_proof_context_must_prefix_the_document_context() -> None:
    signed = sign_document(
        w3c_credential(), vector_key(), W3C_METHOD, CREATED, proof_context=list(W3C_CONTEXT)
    )
    signed["@context"] = list(reversed(W3C_CONTEXT))
    refusal = refusal_of(signed)
    assert (refusal.reason, refusal.detail) == (
        ProofReason.CONTEXT_MISMATCH,
        "the proof's @context is not the document's",
    )
    # a proof context that is the start of the document's (in order) is fine
    longer = sign_document(
        {**w3c_credential(), "@context": [*W3C_CONTEXT, "https://x.example/ns"]},
        vector_key(),
        W3C_METHOD,
        CREATED,
        proof_context=list(W3C_CONTEXT),
    )
    parsed = split_proof(longer)
    assert parsed is not None
    verify_proof(parsed, vector_key().public_key())
    # a single-string context is the one-entry list
    single = sign_document(
        {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note"},
        vector_key(),
        W3C_METHOD,
        CREATED,
    )
    assert single["proof"]["@context"] == "https://www.w3.org/ns/activitystreams"
    parsed = split_proof(single)
    assert parsed is not None
    verify_proof(parsed, vector_key().public_key())


def test_a_single_string_proof_context_prefixes_a_list_context() -> None:
    """A string @context is the one-entry list, on the proof's side as on the document's."""
    signed = signed_example(proof_context="https://www.w3.org/ns/activitystreams")
    parsed = split_proof(signed)
    assert parsed is not None
    verify_proof(parsed, vector_key().public_key())


def test_a_proof_that_carries_a_context_is_verified_with_that_context_alone() -> None:
    """The document's @context stands in only for a proof sent without one: a proof whose sent
    context differs from the one it was signed with (even a valid prefix) does not verify."""
    signed = signed_example()  # signed with the document's whole context in the proof
    signed["proof"]["@context"] = ["https://www.w3.org/ns/activitystreams"]
    assert reason_of(signed) is ProofReason.BAD_SIGNATURE


@contextmanager
def local_time_zone(posix_tz: str) -> Iterator[None]:
    """The process's local zone set to a POSIX TZ string (no tz database needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = posix_tz
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_created_is_written_in_utc_whatever_the_local_zone() -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    with local_time_zone("IST-5:30"):
        for moment in (CREATED, CREATED.astimezone(kolkata)):
            signed = sign_document(fep_8b32_activity(), vector_key(), "https://x.example/k", moment)
            assert signed["proof"]["created"] == "2023-02-24T23:36:38Z"


def test_signing_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^the document already carries a proof$"):
        sign_document(signed_example(), vector_key(), "https://x.example/k", CREATED)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6).filter(lambda k: k != "proof"), json_values, max_size=5))
def test_sign_then_verify_always_holds_and_key_order_does_not_matter(
    document: dict[str, Any],
) -> None:
    key = vector_key()
    signed = sign_document(document, key, "https://a.example/actor#ed25519-key", CREATED)
    reordered = dict(reversed(list(signed.items())))
    parsed = split_proof(reordered)
    assert parsed is not None
    verify_proof(parsed, key.public_key())
