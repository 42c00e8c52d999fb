"""Checks a document's object integrity proof (FEP-8b32) against its author's key.

A missing proof is fine (most peers send none); a present one must hold. A valid proof by the
actor is also what lets us accept an activity whose HTTP signer is someone else (inbox
forwarding, relays): the signature then only says who carried it, the proof says who wrote it.
"""

from __future__ import annotations

from typing import Any, Protocol

from federation.errors import ProblemError
from federation.proofs import ProofError, ProofReason, split_proof, verify_proof
from federation.resolve.authorkeys import AuthorKeyCheck
from federation.resolve.keyservice import KeySource


class ProofVerifier(Protocol):
    """What a caller that is not answering a request needs (ProofChecker provides it)."""

    async def verify(self, document: dict[str, Any], owner: str, /) -> bool:
        """True when `document` carries a proof by `owner` that holds, False when it has none;
        ProofError when one is present but does not hold."""


class ProofChecker:
    def __init__(self, keys: KeySource) -> None:
        self._author_keys = AuthorKeyCheck(keys, ProofError, ProofReason)

    async def check(self, document: dict[str, Any], owner: str) -> bool:
        """True when `document` carries a valid proof by `owner`, False when it has none.

        Raises a 401 problem naming the reason when a proof is present but does not hold.
        """
        try:
            return await self.verify(document, owner)
        except ProofError as exc:
            raise ProblemError(401, "Proof rejected", f"{exc.reason.value}: {exc.detail}") from None

    async def verify(self, document: dict[str, Any], owner: str) -> bool:
        """As `check`, raising ProofError (for callers that are not answering a request)."""
        signed = split_proof(document)
        if signed is None:
            return False
        await self._author_keys.verify(
            signed.verification_method, owner, lambda key: verify_proof(signed, key)
        )
        return True

    async def check_embedded(self, activity: dict[str, Any], actor: str) -> None:
        """An embedded object's own proof (a block signed by its origin) must hold too: we keep
        that copy and may hand it onward, so it must be what its author signed."""
        obj = activity.get("object")
        if isinstance(obj, dict) and "proof" in obj:
            # A block names its author in attributedTo; an embedded activity (the Follow inside
            # an Accept) in actor. Either way the proof must be by that author.
            author = obj.get("attributedTo", obj.get("actor"))
            await self.check(obj, author if isinstance(author, str) else actor)
