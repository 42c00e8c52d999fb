"""Checks a Linked Data signature (RsaSignature2017) against its author's key.

Mastodon forwards activities to the followers of the thread with the author's LD signature on
them, and relays do the same: the HTTP signature then says who carried the activity, the LD
signature who wrote it. We look at one only when the HTTP signer is not the actor, as Mastodon
does: an activity its actor signed over HTTP needs nothing more, and a bad or unverifiable LD
signature on it is ignored.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from federation.errors import ProblemError
from federation.proofs import (
    LdReason,
    LdSignatureError,
    LdSigned,
    split_ld_signature,
    verify_ld_signature,
)
from federation.resolve.keyservice import AuthorKeyProblem, KeySource, author_key


class LdSignatureChecker:
    def __init__(self, keys: KeySource) -> None:
        self._keys = keys

    async def check(self, document: dict[str, Any], owner: str) -> bool:
        """True when `document` carries a valid LD signature by `owner`, False when it has none.

        Raises a 401 problem naming the reason when one is present but does not hold."""
        try:
            signed = split_ld_signature(document)
            if signed is None:
                return False
            await self._verify(signed, owner)
        except LdSignatureError as exc:
            raise ProblemError(
                401, "Linked Data signature rejected", f"{exc.reason.value}: {exc.detail}"
            ) from None
        return True

    async def _verify(self, signed: LdSigned, owner: str) -> None:
        try:
            verify_ld_signature(signed, await self._key_of(signed.creator, owner, fresh=False))
        except LdSignatureError as exc:
            if exc.reason is not LdReason.BAD_SIGNATURE:
                raise
            # The author may have rotated its key: fetch it again (rate-limited), retry once.
            verify_ld_signature(signed, await self._key_of(signed.creator, owner, fresh=True))

    async def _key_of(self, key_id: str, owner: str, *, fresh: bool) -> RSAPublicKey:
        try:
            info = await author_key(self._keys, key_id, owner, fresh=fresh)
        except AuthorKeyProblem as exc:
            reason = LdReason.WRONG_OWNER if exc.found else LdReason.KEY_NOT_FOUND
            raise LdSignatureError(reason, exc.detail) from None
        if not isinstance(info.public_key, RSAPublicKey):
            raise LdSignatureError(LdReason.UNSUPPORTED, f"the key {key_id} is not an RSA key")
        return info.public_key
