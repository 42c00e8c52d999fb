"""RsaSignature2017 Linked Data signatures: documents signed by Mastodon and Fedify, and every way
a signature is refused (tests/vectors/README.md says where each vector comes from)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from federation.keys import ed25519_public_from_multibase
from federation.proofs import (
    LdReason,
    LdSignatureError,
    LdSigned,
    sign_ld_signature,
    split_ld_signature,
    split_proof,
    verify_ld_signature,
    verify_proof,
)
from tests.unit.test_proofs import local_time_zone

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "ld_signatures"
MASTODON = "mastodon-academy-create.json"
FEDIFY_SERVER = "fedify-server-create.json"
MASTODON_SHAPED = "mastodon-shaped-create.json"
CREATOR = "https://alpha.example/actor#main-key"
CREATED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def vector(name: str) -> tuple[dict[str, Any], RSAPublicKey]:
    recorded = json.loads((VECTORS / name).read_text())
    key = load_pem_public_key(recorded["publicKeyPem"].encode())
    assert isinstance(key, RSAPublicKey)
    return recorded["document"], key


# Made once, at import: mutation testing forks each run from a process that imported this.
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def our_key() -> RSAPrivateKey:
    return _KEY


def split(document: dict[str, Any]) -> LdSigned:
    signed = split_ld_signature(document)
    assert signed is not None
    return signed


def refusal(document: dict[str, Any], key: RSAPublicKey) -> LdSignatureError:
    with pytest.raises(LdSignatureError) as caught:
        verify_ld_signature(split(document), key)
    return caught.value


def shape_refusal(document: dict[str, Any]) -> LdSignatureError:
    with pytest.raises(LdSignatureError) as caught:
        split_ld_signature(document)
    return caught.value


def activity() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": "https://alpha.example/activities/1",
        "type": "Create",
        "actor": "https://alpha.example/actor",
        "object": {
            "id": "https://alpha.example/notes/1",
            "type": "Note",
            "attributedTo": "https://alpha.example/actor",
            "content": "signed by us",
        },
    }


@pytest.mark.parametrize("name", [MASTODON, FEDIFY_SERVER, MASTODON_SHAPED])
def test_recorded_signatures_are_accepted(name: str) -> None:
    document, key = vector(name)
    verify_ld_signature(split(document), key)


def test_a_key_of_another_type_is_refused_by_name() -> None:
    """An Ed25519 key where RsaSignature2017 needs RSA: refused as unsupported, naming it."""
    signed = sign_ld_signature(activity(), our_key(), CREATOR, CREATED)
    with pytest.raises(LdSignatureError) as caught:
        verify_ld_signature(split(signed), Ed25519PrivateKey.generate().public_key())
    assert (caught.value.reason, caught.value.detail) == (
        LdReason.UNSUPPORTED,
        f"the key {CREATOR} is not an RSA key",
    )


@pytest.mark.parametrize("name", [MASTODON, FEDIFY_SERVER, MASTODON_SHAPED])
def test_content_altered_after_signing_is_refused(name: str) -> None:
    document, key = vector(name)
    document["object"]["content"] = "<p>not what was signed</p>"
    error = refusal(document, key)
    assert error.reason is LdReason.BAD_SIGNATURE
    assert error.detail == "the signature does not match the document"
    assert str(error) == "bad_ld_signature: the signature does not match the document"


def test_a_fedify_servers_proof_covers_the_activity_without_its_ld_signature() -> None:
    recorded = json.loads((VECTORS / FEDIFY_SERVER).read_text())
    signed = split(recorded["document"])
    assert "signature" not in signed.unsigned and "proof" in signed.unsigned
    proof = split_proof(signed.unsigned)
    assert proof is not None
    verify_proof(proof, ed25519_public_from_multibase(recorded["ed25519PublicKeyMultibase"]))
    assert signed.creator == recorded["keyId"]


def test_another_key_is_refused() -> None:
    document, _ = vector(MASTODON)
    assert refusal(document, our_key().public_key()).reason is LdReason.BAD_SIGNATURE


def test_the_signature_covers_its_own_creator_and_time() -> None:
    document, key = vector(MASTODON)
    for name, value in [("created", "2024-09-12T16:50:47Z"), ("creator", CREATOR)]:
        changed = copy.deepcopy(document)
        changed["signature"][name] = value
        assert refusal(changed, key).reason is LdReason.BAD_SIGNATURE


def test_type_id_and_context_of_the_signature_object_are_not_signed() -> None:
    """Mastodon and Fedify hash the options without `type`, `id` and `signatureValue`, in the
    identity context whatever `@context` the signature object carries."""
    document, key = vector(MASTODON)
    document["signature"]["id"] = "https://activitypub.academy/signatures/1"
    document["signature"]["@context"] = "https://w3id.org/security/v1"
    verify_ld_signature(split(document), key)


def test_a_property_no_context_defines_is_refused_even_though_the_signature_holds() -> None:
    document, key = vector(MASTODON_SHAPED)
    document["object"]["injected"] = "added after signing"
    error = refusal(document, key)
    assert error.reason is LdReason.UNCOVERED
    assert error.detail == "no context defines, so no signature can cover: injected"


def test_what_we_sign_we_verify_and_nobody_can_alter() -> None:
    signed = sign_ld_signature(activity(), our_key(), CREATOR, CREATED)
    assert signed["signature"]["type"] == "RsaSignature2017"
    assert signed["signature"]["creator"] == CREATOR
    assert signed["signature"]["created"] == "2026-12-01T10:00:00Z"
    assert list(signed["signature"]) == ["type", "creator", "created", "signatureValue"]
    assert {name: value for name, value in signed.items() if name != "signature"} == activity()
    verify_ld_signature(split(signed), our_key().public_key())
    signed["object"]["content"] = "altered"
    assert refusal(signed, our_key().public_key()).reason is LdReason.BAD_SIGNATURE


def test_created_is_written_in_utc_whatever_the_zones() -> None:
    local = CREATED.astimezone(timezone(timedelta(hours=-5)))
    with local_time_zone("JST-9"):
        signed = sign_ld_signature(activity(), our_key(), CREATOR, local)
    assert signed["signature"]["created"] == "2026-12-01T10:00:00Z"


def test_signing_a_signed_document_is_an_error() -> None:
    signed = sign_ld_signature(activity(), our_key(), CREATOR, CREATED)
    with pytest.raises(ValueError, match=r"^the document already carries a signature$"):
        sign_ld_signature(signed, our_key(), CREATOR, CREATED)


def test_a_document_without_signature_has_none() -> None:
    assert split_ld_signature(activity()) is None


def test_split_keeps_everything_but_the_signature() -> None:
    document, _ = vector(MASTODON)
    signed = split(document)
    assert signed.unsigned == {k: v for k, v in document.items() if k != "signature"}
    assert signed.signature == document["signature"]
    assert signed.creator == "https://activitypub.academy/users/brauca_darradiul#main-key"
    assert signed.created == "2024-09-12T16:50:46Z"
    assert len(signed.signature_bytes) == 256


def with_signature(**changes: Any) -> dict[str, Any]:
    signature = {
        "type": "RsaSignature2017",
        "creator": CREATOR,
        "created": "2026-12-01T10:00:00Z",
        "signatureValue": "AAAA",
    }
    signature.update(changes)
    return {**activity(), "signature": {k: v for k, v in signature.items() if v is not None}}


@pytest.mark.parametrize(
    ("document", "reason", "detail"),
    [
        ({**activity(), "signature": [with_signature()["signature"]]}, LdReason.MALFORMED,
         "signature is not an object"),
        ({**activity(), "signature": "AAAA"}, LdReason.MALFORMED, "signature is not an object"),
        (with_signature(type=None), LdReason.MALFORMED, "signature type must be a string"),
        (with_signature(type=["RsaSignature2017"]), LdReason.MALFORMED,
         "signature type must be a string"),
        (with_signature(type="Ed25519Signature2018"), LdReason.UNSUPPORTED,
         "only RsaSignature2017, not Ed25519Signature2018"),
        (with_signature(type="X" * 100), LdReason.UNSUPPORTED,
         "only RsaSignature2017, not " + "X" * 64),
        (with_signature(creator=None), LdReason.MALFORMED, "creator must be a non-empty string"),
        (with_signature(creator=""), LdReason.MALFORMED, "creator must be a non-empty string"),
        (with_signature(creator={"id": CREATOR}), LdReason.MALFORMED,
         "creator must be a non-empty string"),
        (with_signature(created=None), LdReason.MALFORMED, "created must be a string"),
        (with_signature(created=1733050800), LdReason.MALFORMED, "created must be a string"),
        (with_signature(signatureValue=None), LdReason.MALFORMED,
         "signatureValue must be a base64 string"),
        (with_signature(signatureValue=1234), LdReason.MALFORMED,
         "signatureValue must be a base64 string"),
        (with_signature(signatureValue="A" * 1401), LdReason.MALFORMED,
         "signatureValue must be a base64 string"),
        (with_signature(signatureValue="not base64!"), LdReason.MALFORMED,
         "signatureValue is not valid base64"),
        (with_signature(signatureValue="AAA"), LdReason.MALFORMED,
         "signatureValue is not valid base64"),
        (with_signature(signatureValue="AAAA!"), LdReason.MALFORMED,
         "signatureValue is not valid base64"),
        (with_signature(signatureValue="AA\nAA"), LdReason.MALFORMED,
         "signatureValue is not valid base64"),
    ],
)  # fmt: skip
def test_malformed_signatures_are_refused_with_their_reason(
    document: dict[str, Any], reason: LdReason, detail: str
) -> None:
    error = shape_refusal(document)
    assert (error.reason, error.detail) == (reason, detail)


def test_the_longest_signature_value_is_still_read() -> None:
    """1400 base64 characters: more than an 8192-bit RSA signature needs (1368)."""
    signed = split(with_signature(signatureValue="A" * 1400))
    assert signed.signature_bytes == bytes(1050)
