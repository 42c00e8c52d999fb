"""Why a proof or signature is refused: a stable reason for code, a detail for people.

One base for every kind of signature a document may carry (FEP-8b32 proofs, Linked Data
signatures), so a caller that checks either handles their refusals one way. Each kind's reasons
are its own words (peers and operators read them), but name the faults that lie with the
author's key alike, KEY_NOT_FOUND, WRONG_OWNER and BAD_SIGNATURE (one that does not match): the
one check that finds that key (resolve/authorkeys.py) serves every kind by those names."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

ReasonT = TypeVar("ReasonT", bound=StrEnum)


class Refusal(Exception, Generic[ReasonT]):
    """A proof or signature that cannot be accepted; `reason` is stable, `detail` is for people."""

    def __init__(self, reason: ReasonT, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
