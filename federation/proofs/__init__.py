"""Object integrity proofs (FEP-8b32): Data Integrity `eddsa-jcs-2022` over JSON documents.

Pure: no I/O. Finding the key a proof names is the caller's job (resolve/keyservice.py).
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
from federation.proofs.signer import ObjectSigner

__all__ = [
    "CRYPTOSUITE",
    "PROOF_PURPOSE",
    "PROOF_TYPE",
    "ObjectSigner",
    "ProofError",
    "ProofReason",
    "SignedDocument",
    "sign_document",
    "split_proof",
    "verify_proof",
]
