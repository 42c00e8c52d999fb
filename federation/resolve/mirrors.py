"""Blocks that stay readable while their origin is down: origin-signed copies held by peers.

A copy is trusted only for its origin's proof (FEP-8b32), checked with the origin's key that we
already hold: the mirror is just a courier and can neither forge nor alter a block. Serving:
only copies we hold in the OK state (never one its origin deleted or withdrew as far as we
know) and only with the proof they came with. Asking: the instances we follow, in turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from federation.activities import InvalidObject, RemoteBlock, object_to_block
from federation.hosts import Host, host_of
from federation.outcomes import Fetcher, FetchError
from federation.ports import FollowStore, ObjectCache
from federation.proofs import ProofError
from federation.records import CacheState, Direction, FollowState
from federation.resolve.proofcheck import ProofVerifier
from federation.signatures import PublicKeyInfo
from federation.urn import BlockUrn

MIRROR_PATH = "/mirror/blocks"
MAX_MIRRORS_ASKED = 3


class HeldKeys(Protocol):
    async def known(self, key_id: str) -> PublicKeyInfo | None:
        """A key already held (never fetched): the origin may be unreachable."""


class OnlyHeld:
    """A key source that never fetches: the origin is down and cannot vouch for a key now, and
    a key offered through the mirror would prove nothing."""

    def __init__(self, keys: HeldKeys) -> None:
        self._keys = keys

    async def resolve(self, key_id: str) -> PublicKeyInfo | None:
        return await self._keys.known(key_id)

    async def refetch(self, key_id: str) -> PublicKeyInfo | None:
        return None


class BlockedHosts(Protocol):
    async def is_blocked(self, host: Host, /) -> bool:
        """Whether a domain block covers `host` (domains.DomainPolicy provides it)."""


@dataclass(frozen=True, slots=True)
class MirrorCopy:
    block: RemoteBlock
    mirror: str  # the host that handed it over
    age_seconds: float  # how long ago the mirror got it from the origin


@dataclass(eq=False, repr=False, kw_only=True)
class MirrorService:
    cache: ObjectCache
    policy: BlockedHosts
    follows: FollowStore
    # Checked with keys already held only (OnlyHeld): the origin is down and cannot vouch
    # for a key now, and a key offered through the mirror would prove nothing.
    proofs: ProofVerifier
    transport: Fetcher
    clock: Callable[[], float]
    peer_scheme: str

    async def copy_for(self, urn: BlockUrn) -> dict[str, Any] | None:
        """What we serve a peer for `urn`: the signed copy and when we got it, or None."""
        if await self.policy.is_blocked(Host.parse(urn.authority)):
            return None
        entry = await self.cache.get_cached(str(urn))
        if entry is None or entry.state is not CacheState.OK or entry.signed is None:
            return None
        copied_at = datetime.fromtimestamp(entry.fetched_at, tz=UTC).isoformat()
        return {"urn": str(urn), "copiedAt": copied_at, "object": entry.signed}

    async def ask(self, urn: BlockUrn) -> MirrorCopy | None:
        """The first copy a followed instance holds whose origin proof holds, or None."""
        asked, origin = 0, Host.parse(urn.authority)
        for follow in await self.follows.list_follows(Direction.FOLLOWING, FollowState.ACCEPTED):
            if host_of(follow.actor) == origin:
                continue  # the origin itself: already failed
            if asked == MAX_MIRRORS_ASKED:
                break
            asked += 1
            copy = await self._ask_one(urn, follow.actor)
            if copy is not None:
                return copy
        return None

    async def _ask_one(self, urn: BlockUrn, mirror_actor: str) -> MirrorCopy | None:
        parts = urlsplit(mirror_actor)
        url = f"{parts.scheme}://{parts.netloc}{MIRROR_PATH}?urn={quote(str(urn), safe='')}"
        try:
            fetched = await self.transport.fetch(url, accept="application/json")
            answer = json.loads(fetched.body)
        except (FetchError, ValueError):
            return None
        if not isinstance(answer, dict) or not isinstance(answer.get("object"), dict):
            return None
        block = await self._checked(urn, answer["object"])
        if block is None:
            return None
        copied_at = _epoch(answer.get("copiedAt"))
        if copied_at is None:
            return None  # the answer must say how old the copy is
        age = max(0.0, self.clock() - copied_at)
        return MirrorCopy(block=block, mirror=parts.netloc, age_seconds=round(age, 3))

    async def _checked(self, urn: BlockUrn, obj: dict[str, Any]) -> RemoteBlock | None:
        """The block, if `obj` is exactly what the origin signed; None discards the answer."""
        author = obj.get("attributedTo")
        if not isinstance(author, str):
            return None
        try:
            # No proof, no trust: a mirror's word is worth nothing on its own.
            if not await self.proofs.verify(obj, author):
                return None
            block = object_to_block(obj, expected_url=urn.to_url(self.peer_scheme))
        except (ProofError, InvalidObject):
            return None
        return block if block.urn == str(urn) else None


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
