"""Checks a Linked Data signature (RsaSignature2017) against its author's key.

Mastodon forwards activities to the followers of the thread with the author's LD signature on
them, and relays do the same: the HTTP signature then says who carried the activity, the LD
signature who wrote it. We look at one only when the HTTP signer is not the actor, as Mastodon
does: an activity its actor signed over HTTP needs nothing more, and a bad or unverifiable LD
signature on it is ignored.
"""

from __future__ import annotations

from typing import Any

from federation.errors import ProblemError
from federation.proofs import LdReason, LdSignatureError, split_ld_signature, verify_ld_signature
from federation.resolve.authorkeys import AuthorKeyCheck
from federation.resolve.keyservice import KeySource


class LdSignatureChecker:
    def __init__(self, keys: KeySource) -> None:
        self._author_keys = AuthorKeyCheck(keys, LdSignatureError, LdReason)

    async def check(self, document: dict[str, Any], owner: str) -> bool:
        """True when `document` carries a valid LD signature by `owner`, False when it has none.

        Raises a 401 problem naming the reason when one is present but does not hold."""
        try:
            signed = split_ld_signature(document)
            if signed is None:
                return False
            await self._author_keys.verify(
                signed.creator, owner, lambda key: verify_ld_signature(signed, key)
            )
        except LdSignatureError as exc:
            raise ProblemError(
                401, "Linked Data signature rejected", f"{exc.reason.value}: {exc.detail}"
            ) from None
        return True
