"""Resolve a signer's key id to a public key: cache first, fetch the actor when needed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urldefrag

from cachetools import LRUCache, TTLCache

from federation.errors import KeyError_, TransportError
from federation.keys import ed25519_public_from_multibase, public_key_from_pem
from federation.observability.setup import Telemetry
from federation.outcomes import Fetcher
from federation.ports import KeyCache
from federation.records import RemoteKey
from federation.resolve.actors import InvalidActor, KeyDoc, find_key, load_json_object
from federation.signatures import PublicKeyInfo

log = logging.getLogger("federation.keys")

MEMORY_KEYS = 10_000  # parsed keys held in memory (about 1 KiB each)


class KeySource(Protocol):
    """Signers' public keys (KeyService provides it)."""

    async def resolve(self, key_id: str) -> PublicKeyInfo | None:
        """The key, from memory, the store, or its owner."""

    async def refetch(self, key_id: str) -> PublicKeyInfo | None:
        """The key fetched again from its owner (it may have been rotated)."""


class AuthorKeyProblem(Exception):
    """The key a proof or LD signature names is unknown, or is not its author's."""

    def __init__(self, *, found: bool, detail: str) -> None:
        super().__init__(detail)
        self.found = found
        self.detail = detail


async def author_key(keys: KeySource, key_id: str, owner: str, *, fresh: bool) -> PublicKeyInfo:
    """The key `key_id` names, which `owner` must own: a proof or a Linked Data signature says
    who wrote a document, so its key is checked as an HTTP signature's is. `fresh` fetches it
    again (the author may have rotated it); that re-fetch is rate-limited, and when it is
    refused what we already hold is used."""
    info = await (keys.refetch(key_id) if fresh else keys.resolve(key_id))
    if info is None and fresh:
        info = await keys.resolve(key_id)
    if info is None:
        raise AuthorKeyProblem(found=False, detail=f"no key found at {key_id}")
    if info.owner != owner:
        raise AuthorKeyProblem(
            found=True, detail=f"the key {key_id} belongs to {info.owner}, not {owner}"
        )
    return info


@dataclass(eq=False, repr=False, kw_only=True)
class KeyService:
    """Key lookup with a store-backed cache and a rate-limited re-fetch for key rotation."""

    cache: KeyCache
    transport: Fetcher
    clock: Callable[[], float]
    refetch_interval: float = 60.0
    telemetry: Telemetry = field(default_factory=Telemetry)
    memory_keys: int = MEMORY_KEYS

    def __post_init__(self) -> None:
        self._metrics = self.telemetry.metrics
        # Keys re-fetched within the last interval: at most one re-fetch per key per interval,
        # and the memory of it bounded (a flood of made-up key ids cannot grow it).
        self._recently_refetched: TTLCache[str, bool] = TTLCache(
            maxsize=self.memory_keys, ttl=self.refetch_interval, timer=self.clock
        )
        # Parsed key objects: the verify path never parses a PEM (nor reads the store) for a
        # key it has met, and at capacity only the least recently used key is dropped, so many
        # senders do not make every key be parsed again.
        self._memory: LRUCache[str, PublicKeyInfo] = LRUCache(maxsize=self.memory_keys)

    async def resolve(self, key_id: str) -> PublicKeyInfo | None:
        info = self._memory.get(key_id)
        if info is not None:
            self._metrics.key_lookup("hit")
            return info
        stored = await self.cache.get_key(key_id)
        if stored is not None:
            self._metrics.key_lookup("hit")
            return self._remember(stored)
        fetched = await self._fetch(key_id)
        self._metrics.key_lookup("fetch" if fetched is not None else "miss")
        return fetched

    async def known(self, key_id: str) -> PublicKeyInfo | None:
        """A key we already hold (memory or store), never fetched: for checks made while its
        owner may be unreachable."""
        info = self._memory.get(key_id)
        if info is not None:
            return info
        stored = await self.cache.get_key(key_id)
        return None if stored is None else self._remember(stored)

    async def refetch(self, key_id: str) -> PublicKeyInfo | None:
        """Fetch again after a failed verification, at most once per interval per key."""
        if key_id in self._recently_refetched:
            return None
        self._recently_refetched[key_id] = True
        self._memory.pop(key_id, None)
        return await self._fetch(key_id)

    def forget(self, key_id: str) -> None:
        self._memory.pop(key_id, None)

    async def _fetch(self, key_id: str) -> PublicKeyInfo | None:
        try:
            url = urldefrag(key_id).url
        except ValueError:  # the keyId comes from the peer: "http://[x" does not even parse
            log.info("key id %.200r is not a URL", key_id)
            return None
        try:
            result = await self.transport.fetch(url)
            doc = load_json_object(result.body)
            key = find_key(doc, key_id)
        except (TransportError, InvalidActor) as exc:
            log.info("key %s unavailable: %s", key_id, exc)
            return None
        pem = key.public_key_pem or _multibase_to_pem(key)
        if pem is None:
            return None
        stored = RemoteKey(
            key_id=key_id, owner=key.owner, public_key_pem=pem, fetched_at=self.clock()
        )
        await self.cache.put_key(stored)
        return self._remember(stored)

    def _remember(self, stored: RemoteKey) -> PublicKeyInfo | None:
        try:
            public = public_key_from_pem(stored.public_key_pem)
        except KeyError_:
            return None
        info = PublicKeyInfo(key_id=stored.key_id, owner=stored.owner, public_key=public)
        self._memory[stored.key_id] = info
        return info


def _multibase_to_pem(key: KeyDoc) -> str | None:
    from cryptography.hazmat.primitives import serialization

    if key.multibase is None:
        return None
    try:
        public = ed25519_public_from_multibase(key.multibase)
    except ValueError:
        return None
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
