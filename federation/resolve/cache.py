"""The one writer of the remote-object cache: every entry, fetched or pushed, is made here.

The resolver writes what it fetched (a block, a 304's renewal, a stale copy held, a deletion,
a miss or a failure); the inbox writes what a followed peer pushed (a Create or Update, a
Delete). A deletion is one entry whichever way it was learned: the peer's 410 or Tombstone, or
its Delete activity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from federation.activities import RemoteBlock
from federation.config import Settings
from federation.ports import ObjectCache
from federation.records import CachedObject, CacheState
from federation.resolve.results import cache_entry_for
from federation.urn import BlockUrn


class RemoteCache:
    def __init__(self, *, store: ObjectCache, settings: Settings, clock: Callable[[], float]):
        self._store = store
        self._ttl = settings.cache
        self._peer_scheme = settings.peer_scheme
        self._clock = clock

    async def get(self, urn: str) -> CachedObject | None:
        return await self._store.get_cached(urn)

    async def put_block(
        self,
        block: RemoteBlock,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        signed: dict[str, Any] | None = None,
    ) -> CachedObject:
        """A validated block, fresh for `fresh_seconds`. `signed`: the object as its origin
        signed it, when its proof was checked."""
        entry = cache_entry_for(
            block, self._clock(), self._ttl.fresh_seconds, etag, last_modified, signed=signed
        )
        await self._store.put_cached(entry)
        return entry

    async def put_pushed(self, block: RemoteBlock, *, signed: dict[str, Any] | None) -> bool:
        """A block a peer pushed (Create, Update); False, and nothing written, when the copy
        held is newer: an older Update arriving late must not overwrite a newer one."""
        previous = await self._store.get_cached(block.urn)
        if previous is not None and previous.block and _newer(previous, block.updated_at):
            return False
        await self.put_block(block, signed=signed)
        return True

    async def put_gone(self, urn: BlockUrn) -> CachedObject:
        """The block was deleted by its origin (a 410, a Tombstone or a Delete): an answer,
        kept as long as a block."""
        return await self.put_missing(urn, CacheState.GONE, None, final=True)

    async def put_missing(
        self, urn: BlockUrn, state: CacheState, error: str | None, *, final: bool = False
    ) -> CachedObject:
        """No block: gone (final), or a 404 or a failure, remembered only briefly."""
        now = self._clock()
        ttl = self._ttl.fresh_seconds if final else self._ttl.negative_seconds
        entry = CachedObject(
            urn=str(urn),
            url=urn.to_url(self._peer_scheme),
            domain=urn.authority,
            state=state,
            block=None,
            etag=None,
            last_modified=None,
            fetched_at=now,
            expires_at=now + ttl,
            error=error,
        )
        await self._store.put_cached(entry)
        return entry

    async def renew(self, entry: CachedObject) -> CachedObject:
        """The origin answered 304: the copy held is fresh again."""
        now = self._clock()
        renewed = replace(entry, fetched_at=now, expires_at=now + self._ttl.fresh_seconds)
        await self._store.put_cached(renewed)
        return renewed

    async def hold_stale(self, entry: CachedObject) -> None:
        """The origin is unreachable: keep the last good copy, and wait before asking again."""
        retry_at = self._clock() + self._ttl.negative_seconds
        await self._store.put_cached(replace(entry, expires_at=retry_at))


def _newer(previous: CachedObject, incoming_updated: datetime) -> bool:
    """True when the cached copy is strictly newer than the incoming one."""
    held = (previous.block or {}).get("updated_at")
    if not isinstance(held, str):
        return False
    return datetime.fromisoformat(held.replace("Z", "+00:00")) > incoming_updated
