"""Why a Linked Data signature is refused: a stable reason for code, a detail for people."""

from __future__ import annotations

from enum import StrEnum

from federation.proofs.refusal import Refusal


class LdReason(StrEnum):
    MALFORMED = "malformed_ld_signature"
    UNSUPPORTED = "unsupported_ld_signature_type"
    BAD_SIGNATURE = "bad_ld_signature"
    TOO_LARGE = "ld_document_too_large"
    TOO_COMPLEX = "ld_document_too_complex"
    UNKNOWN_CONTEXT = "unknown_jsonld_context"
    NOT_CANONICALISABLE = "ld_document_not_canonicalisable"
    UNCOVERED = "ld_properties_not_signed"
    # For the caller that finds the key `creator` names: resolve/authorkeys.py reads these two
    # and BAD_SIGNATURE by name, as it does ProofReason's.
    KEY_NOT_FOUND = "ld_key_not_found"
    WRONG_OWNER = "ld_key_not_owned_by_actor"


class LdSignatureError(Refusal[LdReason]):
    """An LD signature that cannot be accepted."""
