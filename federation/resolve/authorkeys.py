"""Verifying a proof or a Linked Data signature with its author's key: one way for both kinds.

Each names a key, which the document's author must own (`keyservice.author_key`), and each is
tried once more with the key fetched again when it does not match: the author may have rotated
it. The kinds differ only in their refusals (proofs/refusal.py), whose reasons name the faults
of the author's key alike, so one lookup serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Generic, TypeVar

from federation.proofs import Refusal
from federation.resolve.keyservice import AuthorKeyProblem, KeySource, author_key
from federation.signatures import PublicKey

ReasonT = TypeVar("ReasonT", bound=StrEnum)


class AuthorKeyCheck(Generic[ReasonT]):
    """Verifies one kind of signature (its refusal and reasons) with its author's key."""

    def __init__(
        self,
        keys: KeySource,
        refusal: Callable[[ReasonT, str], Refusal[ReasonT]],
        reasons: type[ReasonT],
    ) -> None:
        self._keys = keys
        self._refusal = refusal
        self._key_not_found = reasons["KEY_NOT_FOUND"]
        self._wrong_owner = reasons["WRONG_OWNER"]
        self._bad_signature = reasons["BAD_SIGNATURE"]

    async def verify(self, key_id: str, owner: str, verify: Callable[[PublicKey], None]) -> None:
        """Run `verify` with the key `key_id` names, which `owner` must own; its refusals, and
        ours when the key is missing or not the owner's, propagate."""
        try:
            verify(await self._key_of(key_id, owner, fresh=False))
        except Refusal as exc:
            if exc.reason is not self._bad_signature:
                raise
            # The author may have rotated its key: fetch it again (rate-limited), retry once.
            verify(await self._key_of(key_id, owner, fresh=True))

    async def _key_of(self, key_id: str, owner: str, *, fresh: bool) -> PublicKey:
        try:
            info = await author_key(self._keys, key_id, owner, fresh=fresh)
        except AuthorKeyProblem as exc:
            reason = self._wrong_owner if exc.found else self._key_not_found
            raise self._refusal(reason, exc.detail) from None
        return info.public_key
