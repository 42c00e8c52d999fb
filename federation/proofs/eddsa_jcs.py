"""The `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa, section 3.3) as FEP-8b32 uses it.

hash data = SHA-256(JCS(proof options)) || SHA-256(JCS(document without `proof`)), where the
proof options are the proof object exactly as sent minus `proofValue`; the signature is Ed25519
over that, and `proofValue` is multibase base58btc ('z' + base58). Canonicalisation is RFC 8785
(the `rfc8785` library): two implementations that serialise the same JSON value differently
still agree on the bytes signed. We never inject the document's `@context` into a proof that has
none: FEP-8b32's own example verifies only as sent.

Proofs beside Linked Data signatures: a Fedify server makes the proof first and then adds an
`RsaSignature2017` under `signature`, so its proof covers the document without that member;
a sender that signs the other way round covers it. Both orders are accepted, and nothing else
is left out: only a member named `signature` whose value is shaped like a Linked Data signature
(an object with a `type` and a `signatureValue`) may stand outside the proof, and it is
verified on its own (proofs/ld_signatures) or ignored, never read as content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from federation.proofs.members import string_member, without
from federation.proofs.refusal import Refusal
from federation.signatures import PublicKey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
LD_SIGNATURE_MEMBER = "signature"  # where Linked Data Signatures 1.0 put theirs
DOCUMENT_CONTEXT: Any = object()  # sign_document's default: the proof takes the document's
_SIGNATURE_BYTES = 64
_MAX_PROOF_VALUE = 128  # a 64-byte signature is 87-88 base58 characters; bounds the decode


class ProofReason(StrEnum):
    MALFORMED = "malformed_proof"
    UNSUPPORTED = "unsupported_cryptosuite"
    WRONG_PURPOSE = "wrong_proof_purpose"
    CONTEXT_MISMATCH = "context_mismatch"
    BAD_SIGNATURE = "bad_proof_signature"
    # For the caller that finds the key verificationMethod names (resolve/authorkeys.py).
    KEY_NOT_FOUND = "proof_key_not_found"
    WRONG_OWNER = "proof_key_not_owned_by_actor"


class ProofError(Refusal[ProofReason]):
    """A proof that cannot be accepted."""


def _malformed(detail: str) -> ProofError:
    return ProofError(ProofReason.MALFORMED, detail)


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A document split into its unsecured part and its one proof."""

    unsecured: dict[str, Any]
    proof: dict[str, Any]

    @property
    def verification_method(self) -> str:
        return str(self.proof["verificationMethod"])


def sign_document(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
    *,
    proof_context: Any = DOCUMENT_CONTEXT,
) -> dict[str, Any]:
    """Return a copy of `document` (which must carry no proof) with an eddsa-jcs-2022 proof.

    By default the proof repeats the document's `@context`, as vc-di-eddsa's proof configuration
    says: then a verifier that hashes the proof exactly as sent (FEP-8b32, Mitra) and one that
    adds the document's context to the proof options itself (Fedify) hash the same bytes.
    `proof_context=None` makes a proof without one (FEP-8b32's own example).
    """
    if "proof" in document:
        raise ValueError("the document already carries a proof")
    if proof_context is DOCUMENT_CONTEXT:
        proof_context = document.get("@context")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
        "created": utc_timestamp(created),
    }
    if proof_context is not None:
        options["@context"] = proof_context
    signature = key.sign(_hash_data(options, document))
    proof_value = "z" + base58.b58encode(signature).decode("ascii")
    return {**document, "proof": {**options, "proofValue": proof_value}}


def split_proof(document: dict[str, Any]) -> SignedDocument | None:
    """The document's proof, checked for shape; None when it carries none (most peers)."""
    if "proof" not in document:
        return None
    proof = document["proof"]
    if isinstance(proof, list):
        # A set of proofs is legal, but we cannot tell which one the sender means us to trust.
        if len(proof) != 1:
            raise _malformed("expected exactly one proof")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise _malformed("proof is not an object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(ProofReason.UNSUPPORTED, f"only {PROOF_TYPE} with {CRYPTOSUITE}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError(ProofReason.WRONG_PURPOSE, f"proofPurpose must be {PROOF_PURPOSE}")
    string_member(proof, "verificationMethod", _malformed, non_empty=True)
    string_member(proof, "proofValue", _malformed)
    return SignedDocument(unsecured=without(document, "proof"), proof=proof)


def verify_proof(signed: SignedDocument, key: PublicKey) -> None:
    """Raise ProofError unless `signed.proof` is a valid signature by `key` over the document."""
    if not isinstance(key, Ed25519PublicKey):
        detail = f"the key {signed.verification_method} is not an Ed25519 key"
        raise ProofError(ProofReason.UNSUPPORTED, detail)
    options = without(signed.proof, "proofValue")
    _check_context(options, signed.unsecured)
    signature = _decode_proof_value(signed.proof["proofValue"])
    for document in _document_readings(signed.unsecured):
        for candidate in _option_readings(options, document):
            try:
                key.verify(signature, _hash_data(candidate, document))
                return
            except InvalidSignature:
                continue
    raise ProofError(ProofReason.BAD_SIGNATURE, "the proof does not match the document")


def _document_readings(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document as sent and, when it carries a Linked Data signature, also without it: the
    order Fedify signs in (proof, then LD signature). The LD signature is the one member a
    proof may leave uncovered, because it is itself a signature, never content."""
    if not is_ld_signature(document.get(LD_SIGNATURE_MEMBER)):
        return [document]
    return [without(document, LD_SIGNATURE_MEMBER), document]


def is_ld_signature(value: Any) -> bool:
    """Shaped like a Linked Data signature (LDS 1.0): an object naming its type and value."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and isinstance(value.get("signatureValue"), str)
    )


def _option_readings(options: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    """The proof options exactly as sent and, for a proof sent without `@context` on a document
    that has one, also with the document's context added: Fedify signs that way (vc-di-eddsa's
    proof configuration) but leaves the context out of the proof it sends. Both readings are
    commitments to the same document by the same key, so accepting either weakens nothing."""
    readings = [options]
    if "@context" not in options and "@context" in document:
        readings.append({**options, "@context": document["@context"]})
    return readings


def _hash_data(options: dict[str, Any], document: dict[str, Any]) -> bytes:
    try:
        canonical_options = rfc8785.dumps(options)
        canonical_document = rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise _malformed(f"not canonicalisable JSON: {exc}") from None
    return hashlib.sha256(canonical_options).digest() + hashlib.sha256(canonical_document).digest()


def _check_context(options: dict[str, Any], document: dict[str, Any]) -> None:
    """vc-di-eddsa: a proof's own `@context` must be a prefix of the document's, in order."""
    if "@context" not in options:
        return
    wanted, have = _as_list(options["@context"]), _as_list(document.get("@context"))
    if have[: len(wanted)] != wanted:
        raise ProofError(ProofReason.CONTEXT_MISMATCH, "the proof's @context is not the document's")


def _decode_proof_value(value: str) -> bytes:
    if not value.startswith("z") or len(value) > _MAX_PROOF_VALUE:
        raise _malformed("proofValue is not multibase base58btc")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise _malformed("proofValue is not valid base58btc") from None
    if len(signature) != _SIGNATURE_BYTES:
        raise _malformed("proofValue is not a 64-byte Ed25519 signature")
    return signature


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def utc_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, as both proofs and LD signatures write `created`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
