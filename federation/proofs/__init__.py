"""Object integrity proofs (FEP-8b32): Data Integrity `eddsa-jcs-2022` over JSON documents;
and Linked Data Signatures 1.0 (`RsaSignature2017`), over URDNA2015 with bundled contexts.

Pure: no I/O. Finding the key a proof or signature names is the caller's job
(resolve/keyservice.py).
"""

from federation.proofs.eddsa_jcs import (
    CRYPTOSUITE,
    PROOF_PURPOSE,
    PROOF_TYPE,
    ProofError,
    ProofReason,
    SignedDocument,
    sign_document,
    split_proof,
    verify_proof,
)
from federation.proofs.jsonld_contexts import register_context
from federation.proofs.ld_errors import LdReason, LdSignatureError
from federation.proofs.ld_signatures import (
    LdSigned,
    sign_ld_signature,
    split_ld_signature,
    verify_ld_signature,
)
from federation.proofs.refusal import Refusal
from federation.proofs.signer import ObjectSigner

__all__ = [
    "CRYPTOSUITE",
    "PROOF_PURPOSE",
    "PROOF_TYPE",
    "LdReason",
    "LdSignatureError",
    "LdSigned",
    "ObjectSigner",
    "ProofError",
    "ProofReason",
    "Refusal",
    "SignedDocument",
    "register_context",
    "sign_document",
    "sign_ld_signature",
    "split_ld_signature",
    "split_proof",
    "verify_ld_signature",
    "verify_proof",
]
