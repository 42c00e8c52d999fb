"""The instance's proof signer: one Ed25519 key, one verification method, used for everything."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.proofs.eddsa_jcs import sign_document

DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"


def with_proof_terms(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the context that defines `proof` (and DataIntegrityProof) for JSON-LD
    readers: without it, a reader that expands the document (Fedify) drops the proof unseen.
    Placed right after the ActivityStreams context, before any that might build on it."""
    context = document.get("@context")
    entries = [] if context is None else context if isinstance(context, list) else [context]
    if DATA_INTEGRITY_CONTEXT in entries:
        return document
    return {**document, "@context": [*entries[:1], DATA_INTEGRITY_CONTEXT, *entries[1:]]}


class ObjectSigner:
    """Adds an eddsa-jcs-2022 proof made with our Ed25519 key (published as a FEP-521a Multikey)."""

    def __init__(self, key: Ed25519PrivateKey, verification_method: str) -> None:
        self._key = key
        self.verification_method = verification_method

    def sign(self, document: dict[str, Any], created: float) -> dict[str, Any]:
        """`created` is a Unix time. Ed25519 is deterministic, so the same document and time
        always give the same bytes: a served object keeps its ETag while the block is unchanged."""
        moment = datetime.fromtimestamp(int(created), tz=UTC)
        return sign_document(
            with_proof_terms(document), self._key, self.verification_method, moment
        )

    def __repr__(self) -> str:
        return f"ObjectSigner({self.verification_method!r})"
